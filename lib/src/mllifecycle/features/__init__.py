"""Step 3: feature engineering."""
