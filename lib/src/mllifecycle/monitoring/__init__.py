"""Step 7: monitoring, drift and the retrain verdict."""
