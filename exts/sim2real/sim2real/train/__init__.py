"""Perception training on synthetic data with domain adaptation to unlabelled real images.

Tasks: semantic segmentation, image classification, state regression. Methods: source-only, DANN,
Deep CORAL, MMD, AdaBN. Unsupervised validators pick a checkpoint without target labels. Entry
points: ``sim2real train`` (``cli.py``), ``trainer.train``, ``runfolder.load_model``. See
``exts/sim2real/docs/training.md``. Importing this package is cheap; its modules import torch.
"""
