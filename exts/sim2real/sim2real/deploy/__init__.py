"""Edge deployment: ONNX export, quantization, bundles, SSH push to a Jetson, on-device benchmark.

* ``export``: a training run -> ONNX with its description in ``metadata_props``, checked, with a
  PyTorch parity check on dataset images;
* ``quantize``: static INT8 (QDQ) calibrated on synthetic + target images, FP16; accuracy and
  latency against FP32;
* ``evalset``: the evaluation and calibration images of a run;
* ``bundle``: the deploy bundle (models, preprocessing, labels, evaluation set, edge runner,
  manifest with sha256) as one deterministic tar; ``inspect_archive`` checks one before upload;
* ``ssh``: targets, host-key policy and connections (asyncssh);
* ``remote``: push (resumable upload, verify, unpack, atomic switch), rollback, status, bench;
* ``edge``: the standalone runner shipped in every bundle (no sim2real on the device).

Commands: ``sim2real export`` and ``sim2real deploy bundle|push|rollback|status|bench`` (``cli``).
See ``exts/sim2real/docs/deploy.md``. Importing this package is cheap.
"""
