"""Step 5: judging models on what their decisions are worth."""
