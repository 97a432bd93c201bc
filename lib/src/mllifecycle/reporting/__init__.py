"""Self-contained HTML pieces shared by the model card and the monitoring report."""
