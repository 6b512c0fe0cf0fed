"""Datasets in the layouts users already have, and the stand-ins that take their place."""
