"""Demo data for the embedded default: fake orders and one principal per role."""
