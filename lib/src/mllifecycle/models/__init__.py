"""Step 4: candidate models, and the artifact that carries one into production."""
