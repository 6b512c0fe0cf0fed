"""One module per experiment: each turns settings into a run record."""
