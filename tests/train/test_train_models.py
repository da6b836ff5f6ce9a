"""Models, adaptation methods and validators: shapes, ONNX export with onnxruntime parity, the
gradient reversal layer and DANN schedule, CORAL/MMD/AdaBN behaviour, entropy/SND/DEV."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
import torch

from sim2real.errors import UnsupportedError
from sim2real.train.methods import CORAL, DANN, MMD, adapt_batch_norm, covariance, dann_alpha, make_method, mk_mmd2, reverse_gradient
from sim2real.train.models import ARCHITECTURES, CenterNet, EdgeClassifier, LeNet, SegNet, StateNet, build
from sim2real.train.validators import density_ratio, dev, information, iwv, mean_entropy, snd


def _models() -> list[tuple[torch.nn.Module, torch.Tensor]]:
    torch.manual_seed(0)
    return [
        (SegNet(4, 3, [8, 16, 32], skips=True), torch.randn(2, 4, 48, 64)),
        (SegNet(3, 2, [8, 16], skips=False), torch.randn(2, 3, 24, 32)),
        (EdgeClassifier(3, 5, [8, 16, 16, 32]), torch.randn(2, 3, 32, 32)),
        (LeNet(3, 10, [8, 12], input_size=(28, 28)), torch.randn(2, 3, 28, 28)),
        (LeNet(4, 3, [8, 12], input_size=(64, 48)), torch.randn(2, 4, 48, 64)),  # the last map max-pooled to 4x4
        (StateNet(6, 2, [32, 32, 32]), torch.randn(4, 6)),
        (CenterNet(4, 3, [8, 16, 32]), torch.randn(2, 4, 48, 64)),  # heads at stride 4
    ]


def test_models_split_at_the_last_layer_and_build_from_their_config() -> None:
    for model, x in _models():
        model.eval()
        out = model(x)
        f = model.represent(x)
        assert torch.equal(model.predict(f), out)
        assert f.shape[1] == model.feature_dim
        assert model.embed(x).dim() == 2 and len(model.embed(x)) == len(x)
    seg = _models()[0][0]
    assert seg(torch.randn(1, 4, 48, 64)).shape == (1, 3, 48, 64)  # logits at the input resolution
    assert _models()[6][0](torch.randn(1, 4, 48, 64)).shape == (1, 3 + 4, 12, 16)  # K heatmaps + 4 box channels
    assert set(ARCHITECTURES) == {"segnet", "centernet", "edge-classifier", "lenet", "state-mlp"}
    again = build("segnet", {"in_channels": 4, "num_classes": 3, "widths": [8, 16, 32], "skips": True})
    assert sum(p.numel() for p in again.parameters()) == sum(p.numel() for p in seg.parameters())


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch's note that the TorchScript exporter is legacy
@pytest.mark.parametrize("index", [0, 1, 2, 3, 4, 5, 6])
def test_models_export_to_onnx_and_match_onnxruntime(index: int) -> None:
    import onnx
    import onnxruntime as ort

    model, x = _models()[index]
    model.eval()
    buf = io.BytesIO()
    # the TorchScript exporter (torch's dynamo exporter needs onnxscript, which we do not install)
    torch.onnx.export(model, (x,), buf, dynamo=False, input_names=["input"], output_names=["output"], opset_version=17)
    proto = onnx.load_from_string(buf.getvalue())
    onnx.checker.check_model(proto)
    ops = {n.op_type for n in proto.graph.node}
    assert ops <= {"Conv", "Relu", "Resize", "Concat", "AveragePool", "GlobalAveragePool", "MaxPool", "Flatten", "Gemm", "MatMul",
                   "Add", "BatchNormalization", "Reshape", "Identity", "Constant", "Shape", "Gather", "Unsqueeze", "Slice",
                   "Cast", "Mul", "Div", "Floor", "Sub"}, ops
    sess = ort.InferenceSession(buf.getvalue(), providers=["CPUExecutionProvider"])
    got = sess.run(None, {"input": x.numpy()})[0]
    with torch.no_grad():
        np.testing.assert_allclose(got, model(x).numpy(), rtol=1e-4, atol=1e-4)


def test_gradient_reversal_and_the_dann_schedule() -> None:
    x = torch.randn(5, 3, requires_grad=True)
    y = reverse_gradient(x, 0.7)
    assert torch.equal(y, x) and y is not x
    (y * torch.arange(3.0)).sum().backward()
    assert torch.allclose(x.grad, -0.7 * torch.arange(3.0).expand(5, 3))
    assert dann_alpha(0.0) == 0.0
    assert dann_alpha(1.0) == pytest.approx(2 / (1 + math.exp(-10)) - 1) and dann_alpha(1.0) > 0.999
    ps = np.linspace(0, 1, 11)
    assert np.all(np.diff([dann_alpha(p) for p in ps]) > 0)


def test_dann_discriminator_learns_while_the_encoder_is_pushed_the_other_way() -> None:
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    enc = torch.nn.Linear(4, 8)
    dann = DANN(8)
    xs, xt = torch.randn(64, 4), torch.randn(64, 4) + 2.0
    loss, logs = dann.loss(enc(xs), enc(xt), 1.0, g)
    loss.backward()
    w_disc = dann.discriminator[0].weight.grad.clone()
    enc_grad = enc.weight.grad.clone()
    # the same loss without reversal: the encoder gradient flips sign, the discriminator's does not
    enc.zero_grad()
    dann.zero_grad()
    feats = torch.cat([enc(xs), enc(xt)])
    logits = dann.discriminator(feats).squeeze(1)
    domain = torch.cat([torch.zeros(64), torch.ones(64)])
    per = torch.nn.functional.binary_cross_entropy_with_logits(logits, domain, reduction="none")
    (0.5 * per[:64].mean() + 0.5 * per[64:].mean()).backward()
    assert torch.allclose(dann.discriminator[0].weight.grad, w_disc, atol=1e-6)
    assert torch.allclose(enc.weight.grad, -enc_grad / dann_alpha(1.0), atol=1e-5)
    assert set(logs) >= {"domain_loss", "domain_acc", "alpha"}


def test_coral_and_mmd_are_zero_for_one_distribution_and_grow_with_the_shift() -> None:
    g = torch.Generator().manual_seed(1)
    a = torch.randn(400, 6, generator=g)
    b = torch.randn(400, 6, generator=g)
    assert torch.allclose(covariance(a), torch.cov(a.T), atol=1e-5)
    coral, mmd = CORAL(6), MMD(6)
    same_c = coral.loss(a, b, 0.5, g)[0].item()
    far_c = coral.loss(a, b * 3.0, 0.5, g)[0].item()
    assert same_c < 0.05 < 0.5 < far_c  # ||I - 9I||^2 / (||I||^2 + ||9I||^2) = 64 / 82
    near = mk_mmd2(a, b).item()
    assert abs(near) < 0.01 < mk_mmd2(a, b + 1.0).item() < mk_mmd2(a, b + 3.0).item()
    # shrinking every feature cannot lower either loss (the collapse the unnormalised forms invite)
    for k in (0.01, 10.0):
        assert coral.loss(a * k, b * 3.0 * k, 0.5, g)[0].item() == pytest.approx(far_c, rel=1e-4)
        assert mk_mmd2(a * k, (b + 1.0) * k).item() == pytest.approx(mk_mmd2(a, b + 1.0).item(), rel=1e-4)
    scale = torch.tensor(1.0, requires_grad=True)
    (coral.distance(a * scale, b * 3.0 * scale) + mk_mmd2(a * scale, (b + 1.0) * scale)).backward()
    assert abs(float(scale.grad)) < 1e-4  # no gradient along the features' common scale
    # feature maps are flattened per location and subsampled (same generator state, same loss)
    fmap_s, fmap_t = torch.randn(4, 6, 20, 20, generator=g), torch.randn(4, 6, 20, 20, generator=g) + 1
    l1 = mmd.loss(fmap_s, fmap_t, 0.5, torch.Generator().manual_seed(3))[0]
    l2 = mmd.loss(fmap_s, fmap_t, 0.5, torch.Generator().manual_seed(3))[0]
    assert l1.item() == l2.item() > 0.01
    assert make_method("source-only", 6).loss(a, b, 0.5, g)[0].item() == 0.0


def test_adabn_replaces_batch_norm_statistics_with_the_targets() -> None:
    torch.manual_seed(0)
    model = SegNet(3, 2, [8, 16])
    model.eval()
    target = [torch.randn(4, 3, 16, 16) * 2 + 5 for _ in range(3)]
    adapted = adapt_batch_norm(model, target)
    bn0 = adapted.stages[0][0][1]
    conv0 = adapted.stages[0][0][0]
    with torch.no_grad():
        pre = torch.cat([conv0(x) for x in target])
    assert torch.allclose(bn0.running_mean, pre.mean(dim=(0, 2, 3)), atol=1e-4)
    assert not adapted.training
    assert torch.equal(model.stages[0][0][1].running_mean, torch.zeros(8))  # the original is untouched
    with pytest.raises(UnsupportedError, match="batch-norm"):
        adapt_batch_norm(StateNet(3, 1, [8, 8], batch_norm=False), [torch.randn(4, 3)])


def test_validators_entropy_snd_and_dev() -> None:
    g = torch.Generator().manual_seed(0)
    uniform = torch.full((50, 4), 0.25)
    confident = torch.nn.functional.one_hot(torch.randint(0, 4, (50,), generator=g), 4).float() * 0.97 + 0.0075
    assert mean_entropy(uniform) == pytest.approx(1.0)
    assert mean_entropy(confident) < 0.2
    # SND: predictions forming tight clusters score higher than scattered ones
    centres = torch.softmax(torch.randn(4, 6, generator=g) * 4, 1)
    clustered = centres.repeat_interleave(25, 0) + 0.01 * torch.rand(100, 6, generator=g)
    scattered = torch.softmax(torch.randn(100, 6, generator=g) * 4, 1)
    assert snd(clustered) > snd(scattered)
    # DEV: with identical domains the weights are about 1 and DEV is about the mean loss
    src, tgt, val = torch.randn(300, 3, generator=g), torch.randn(300, 3, generator=g), torch.randn(200, 3, generator=g)
    loss = torch.rand(200, generator=g)
    w_same = density_ratio(src, tgt, val)
    assert dev(w_same, loss) == pytest.approx(float(loss.mean()), abs=0.05)
    assert iwv(w_same, loss) == pytest.approx(float(loss.mean()), abs=0.05)
    # a shifted target: validation samples near the target count more
    tgt_shift = torch.randn(300, 3, generator=g) + torch.tensor([2.0, 0, 0])
    loss_near_target = (val[:, 0] > 0.5).float()  # the loss is high exactly where the target lives
    w_shift = density_ratio(src, tgt_shift, val)
    assert dev(w_shift, loss_near_target) > float(loss_near_target.mean()) + 0.2
    assert iwv(w_shift, loss_near_target) > float(loss_near_target.mean()) + 0.2
    # IM: confident predictions spread over the classes score high; one class everywhere scores 0
    assert information(confident.mean(0), mean_entropy(confident)) > 0.7
    one_class = torch.tensor([[0.97, 0.01, 0.01, 0.01]]).repeat(50, 1)
    assert information(one_class.mean(0), mean_entropy(one_class)) == pytest.approx(0.0, abs=1e-6)
    assert information(uniform.mean(0), mean_entropy(uniform)) == pytest.approx(0.0, abs=1e-6)


def test_lenet_keeps_the_layout_of_its_last_map_and_refuses_inputs_too_small() -> None:
    """The classification default: valid 5x5 convolutions, max pooling, a flattened map of at most
    4x4 cells at any input size (so DANN's domain classifier stays small); too small an input, or an
    edge-classifier input whose 2x2 pool cannot export, is a config error naming the resolution."""
    from sim2real.errors import ConfigError
    from sim2real.train.config import load_config

    small, large = LeNet(3, 10, input_size=(28, 28)), LeNet(3, 10, input_size=(128, 96))
    assert small.feature_dim == large.feature_dim == 48 * 4 * 4
    assert LeNet(3, 10, input_size=(16, 16)).feature_dim == 48  # a 1x1 map
    assert small.represent(torch.zeros(2, 3, 28, 28)).shape == large.represent(torch.zeros(2, 3, 96, 128)).shape
    cfg = load_config(None, {"task": "classify", "resolution": (28, 28)})
    assert (cfg.model.arch, cfg.model.widths) == ("lenet", [32, 48])
    with pytest.raises(ConfigError, match="at least 16 pixels a side for lenet with 2 stages.*not 12x12"):
        load_config(None, {"task": "classify", "resolution": (12, 12)})
    with pytest.raises(ConfigError, match="edge-classifier an even-sided last map.*not 28x28 \\(a 7x7 map\\)"):
        load_config(None, {"task": "classify", "resolution": (28, 28), "model": {"arch": "edge-classifier"}})
    with pytest.raises(ConfigError, match="model.arch one of \\['segnet'\\] for the segment task, not 'lenet'"):
        load_config(None, {"task": "segment", "model": {"arch": "lenet"}})


def test_the_config_knows_every_method_by_name() -> None:
    """train.config validates ``method`` without importing torch: its list must be the registry's."""
    from sim2real.train import config, methods

    assert config.METHODS == tuple(methods.METHODS)


def test_the_defaults_are_the_measured_ones_per_task_and_method() -> None:
    """docs/training.md, "What each change bought": on classification AdamW for the methods that train
    on target batches, SGD for source-only and AdaBN, no augmentation; segmentation augments and uses
    AdamW for every method; an explicit optimizer applies to every method."""
    from sim2real.train.config import load_config

    def picked(task: str, method: str, **over: object) -> tuple[str, float, bool]:
        cfg = load_config(None, {"task": task, "method": method, "resolution": (32, 32), **over})
        return cfg.optimizer, cfg.lr, cfg.augment.enabled

    assert [picked("classify", m) for m in ("dann", "coral", "mmd")] == [("adamw", 2e-3, False)] * 3
    assert [picked("classify", m) for m in ("source-only", "adabn")] == [("sgd", 0.01, False)] * 2
    assert {picked("segment", m) for m in ("source-only", "dann", "coral", "mmd", "adabn")} == {("adamw", 2e-3, True)}
    assert picked("classify", "dann", optimizer="sgd") == ("sgd", 0.01, False)
    assert picked("classify", "source-only", augment={"enabled": True})[2] is True
