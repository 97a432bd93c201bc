"""Step 2: data collection, cleaning and the split."""
