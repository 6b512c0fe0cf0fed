"""Datasets in the layouts users already have, and the stand-ins that take their place."""

#: Class subsets shipped with transinv (name -> file in ``transinv/data``); light to
#: import, so the workflow can tell them from a user's file without loading torchvision.
PACKAGED_SUBSETS = {"imagenet_a_200": "imagenet_a_200_indices.txt"}
