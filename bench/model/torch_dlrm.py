#!/usr/bin/env python3
"""PyTorch DLRM training-throughput yardstick for bench/model/model_bench.

What it measures: samples/s of full DLRM training steps (zero_grad, forward, BCE-with-logits
loss, backward, SGD step) in stock PyTorch, on exactly the workload model_bench runs, so the
two can be quoted as a ratio measured on the same machine in the same run:

  * model as worker/model/dlrm_config.h documents it (presets kaggle, mlperf and dlrmv2):
    bottom MLP with ReLU after EVERY layer; one sum-pooled EmbeddingBag per sparse feature
    (one id per bag, or --multi-hot fixed bag sizes, bags given by offsets); Z = [bottom_out,
    emb_1 .. emb_26]; dot interaction (kaggle, mlperf): dot products <Z_i, Z_j> for i > j in
    tril order (bmm + tril_indices(offset=-1), as the reference dlrm_s_pytorch.py), top input
    [bottom_out, dots]; DCNv2 (dlrmv2: TorchRec's LowRankCrossNet in plain torch ops):
    x0 = concat(Z), x = x0 * ((x @ V.T) @ W.T + b) + x per cross layer, top input the last x;
    top MLP with ReLU after all but the last layer; loss averaged over the batch;
  * every embedding row resident (rows_per_feature rows per feature, sparse gradients), plain
    SGD (lr 0.01) for embeddings and dense weights, as model_bench uses;
  * ids per feature Zipf(s) over [0, rows) by inverse CDF on a precomputed table, scattered as
    model_bench does (r = zipf_index * 2654435761 % rows_per_feature); dense inputs |N(0,1)|,
    labels 1 with probability 1/4; `distinct_batches` batches pre-generated on the device and
    cycled through. (The random streams are torch's, not model_bench's mt19937_64: the
    distributions match, the individual ids do not.)
  * on cpu, OMP/OpenBLAS/MKL thread counts follow --threads and OMP_WAIT_POLICY defaults to
    PASSIVE (see main(); any of them already set in the environment wins);
  * --dense-only drops the embeddings: the pooled vectors become fixed random inputs, so the
    dense part (MLPs + interaction) is timed alone.

Run (PyTorch is an optional yardstick, not a project dependency; Debian: apt install
python3-torch, which lands in /usr/bin/python3's path, not in a pyenv interpreter's):

  python3 bench/model/torch_dlrm.py --device cpu --config kaggle --batch 2048 --threads 2 --json
  python3 bench/model/torch_dlrm.py --device cuda --config mlperf --batch 2048 --json [--tf32]

and the C++ side: build/bin/model_bench --backend cpu|cuda --config ... --batch ... --json.
bench/model/compare_cpu.sh runs both interleaved and prints the ratio. Prints one JSON line
with --json, else one human-readable line.
"""
import argparse
import json
import os
import sys
import time

CONFIGS = {
    # name: (num_dense, num_sparse, dim, bottom widths, top widths)
    "kaggle": (13, 26, 16, [512, 256, 64, 16], [512, 256, 1]),
    "mlperf": (13, 26, 128, [512, 256, 128], [1024, 1024, 512, 256, 1]),
    "dlrmv2": (13, 26, 128, [512, 256, 128], [1024, 1024, 512, 256, 1]),
}
# DCNv2 cross networks: name -> (cross layers, rank); configs not listed use the dot interaction.
CROSS = {"dlrmv2": (3, 512)}
# Ids per bag of each sparse feature in MLPerf DLRMv2's multi-hot Criteo 1TB (model_bench's).
MLPERF_MULTI_HOT = [3, 2, 1, 2, 6, 1, 1, 1, 1, 7, 3, 8, 1, 6, 9, 5, 1, 1, 1, 12, 100, 27, 10,
                    3, 1, 1]


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description="PyTorch DLRM training throughput, mirroring bench/model/model_bench")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--config", default="kaggle", help="kaggle, mlperf or dlrmv2")
    p.add_argument("--multi-hot", default="",
                   help="ids per bag of each sparse feature: 'mlperf' or a comma-separated "
                        "list (default one id per bag)")
    p.add_argument("--batch", type=int, default=2048, help="samples per step")
    p.add_argument("--iters", type=int, default=20, help="timed steps")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    p.add_argument("--threads", type=int, default=0,
                   help="CPU threads (0 = all cores); torch.set_num_threads on cpu")
    p.add_argument("--rows-per-feature", type=int, default=20000,
                   help="embedding rows per sparse feature")
    p.add_argument("--zipf", type=float, default=1.05, help="Zipf exponent of ids")
    p.add_argument("--distinct-batches", type=int, default=4,
                   help="pre-generated batches, cycled through")
    p.add_argument("--tf32", action="store_true", help="TF32 GEMMs (cuda); off by default")
    p.add_argument("--dense-only", action="store_true",
                   help="no embeddings: pooled vectors are fixed random inputs")
    p.add_argument("--json", action="store_true", help="one JSON line")
    return p.parse_args(argv)


def fail(msg, code=2):
    print("torch_dlrm: " + msg, file=sys.stderr)
    sys.exit(code)


def cpu_model_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform
    return platform.processor() or platform.machine()


def dense_layout_floats(config):
    """Floats of worker/model DenseLayout: sum over layers of out*in + out."""
    num_dense, num_sparse, dim, bottom, top = CONFIGS[config]
    n = num_sparse + 1
    total, fan_in = 0, num_dense
    for w in bottom:
        total, fan_in = total + w * fan_in + w, w
    fan_in = dim + n * (n - 1) // 2
    if config in CROSS:
        layers, rank = CROSS[config]
        fan_in = n * dim
        total += layers * (2 * fan_in * rank + fan_in)
    for w in top:
        total, fan_in = total + w * fan_in + w, w
    return total


def build(torch, config, rows, dense_only):
    """Returns the DLRM module (defined here so torch is imported only after the threads env)."""
    nn = torch.nn
    num_dense, num_sparse, dim, bottom, top = CONFIGS[config]

    def mlp(fan_in, widths, relu_last):
        layers = []
        for l, w in enumerate(widths):
            lin = nn.Linear(fan_in, w)
            # The reference (and InitDenseWeights) scheme: W ~ N(0, sqrt(2/(in+out))),
            # b ~ N(0, sqrt(1/out)).
            with torch.no_grad():
                lin.weight.normal_(0.0, (2.0 / (fan_in + w)) ** 0.5)
                lin.bias.normal_(0.0, (1.0 / w) ** 0.5)
            layers.append(lin)
            if relu_last or l + 1 < len(widths):
                layers.append(nn.ReLU())
            fan_in = w
        return nn.Sequential(*layers)

    class DLRM(nn.Module):
        def __init__(self):
            super().__init__()
            self.num_sparse, self.dim = num_sparse, dim
            self.bottom = mlp(num_dense, bottom, relu_last=True)
            n = num_sparse + 1
            self.dcn = config in CROSS
            self.cross_v = nn.ParameterList()
            self.cross_w = nn.ParameterList()
            self.cross_b = nn.ParameterList()
            if self.dcn:
                layers, rank = CROSS[config]
                width = n * dim
                for _ in range(layers):  # TorchRec's init: Xavier normal V and W, zero bias
                    self.cross_v.append(nn.Parameter(nn.init.xavier_normal_(
                        torch.empty(rank, width))))
                    self.cross_w.append(nn.Parameter(nn.init.xavier_normal_(
                        torch.empty(width, rank))))
                    self.cross_b.append(nn.Parameter(torch.zeros(width)))
                self.top = mlp(width, top, relu_last=False)
            else:
                self.top = mlp(dim + n * (n - 1) // 2, top, relu_last=False)
            li, lj = torch.tril_indices(n, n, offset=-1)  # i > j, i-major
            self.register_buffer("li", li, persistent=False)
            self.register_buffer("lj", lj, persistent=False)
            self.emb = nn.ModuleList()
            if not dense_only:
                for _ in range(num_sparse):
                    bag = nn.EmbeddingBag(rows, dim, mode="sum", sparse=True)
                    with torch.no_grad():
                        bag.weight.uniform_(-0.05, 0.05)  # as model_bench fills its slots
                    self.emb.append(bag)

        def forward(self, dense, ids=None, offsets=None, pooled=None):
            x = self.bottom(dense)  # [B, dim]
            if pooled is None:  # ids[f]: feature f's ids, its bags given by offsets[f]
                pooled = torch.stack(
                    [bag(ids[f], offsets[f]) for f, bag in enumerate(self.emb)], dim=1)
            z = torch.cat([x.unsqueeze(1), pooled], dim=1)  # [B, F+1, dim]
            if self.dcn:
                x0 = z.reshape(z.shape[0], -1)  # [B, (F+1) * dim]
                xl = x0
                for v, w, b in zip(self.cross_v, self.cross_w, self.cross_b):
                    xl = x0 * torch.nn.functional.linear(
                        torch.nn.functional.linear(xl, v), w, b) + xl
                return self.top(xl).squeeze(1)  # [B] logits
            zz = torch.bmm(z, z.transpose(1, 2))  # [B, F+1, F+1]
            dots = zz[:, self.li, self.lj]  # [B, pairs]
            return self.top(torch.cat([x, dots], dim=1)).squeeze(1)  # [B] logits

    return DLRM()


def make_batches(torch, a, device):
    num_dense, num_sparse, dim, _, _ = CONFIGS[a.config]
    # Zipf(s) over [0, rows) by inverse CDF on a precomputed table, as model_bench's Zipf.
    k = torch.arange(1, a.rows_per_feature + 1, dtype=torch.float64)
    cdf = torch.cumsum(k.pow(-a.zipf), 0)
    cdf /= cdf[-1].clone()
    batches = []
    for i in range(a.distinct_batches):
        g = torch.Generator().manual_seed(i)
        b = {
            "dense": torch.randn(a.batch, num_dense, generator=g).abs_(),
            "labels": (torch.randint(0, 4, (a.batch,), generator=g) == 0).float(),
        }
        if a.dense_only:
            b["pooled"] = torch.empty(a.batch, num_sparse, dim).uniform_(-0.05, 0.05,
                                                                         generator=g)
        else:
            ids, offsets = [], []
            for f in range(num_sparse):
                n = a.bag_sizes[f]
                u = torch.rand(a.batch * n, dtype=torch.float64, generator=g)
                # lower_bound == searchsorted(side left); clamp guards u > cdf[-1] by rounding.
                z = torch.searchsorted(cdf, u).clamp_(max=a.rows_per_feature - 1)
                # int64 exact: z < 2^31, so z * 2654435761 < 2^63 (model_bench: uint64 math).
                ids.append((z.to(torch.int64) * 2654435761) % a.rows_per_feature)
                offsets.append(torch.arange(a.batch, dtype=torch.int64) * n)
            b["ids"] = ids
            b["offsets"] = offsets
        batches.append({key: ([x.to(device) for x in t] if isinstance(t, list) else t.to(device))
                        for key, t in b.items()})
    return batches


def main(argv=None):
    a = parse_args(argv)
    if a.config not in CONFIGS:
        fail("unknown DLRM preset '%s' (expected kaggle, mlperf or dlrmv2)" % a.config)
    num_sparse = CONFIGS[a.config][1]
    if a.multi_hot == "":
        a.bag_sizes = [1] * num_sparse
    elif a.multi_hot == "mlperf":
        a.bag_sizes = list(MLPERF_MULTI_HOT)
    else:
        try:
            a.bag_sizes = [int(s) for s in a.multi_hot.split(",")]
        except ValueError:
            fail("--multi-hot: expected 'mlperf' or a comma-separated list of integers")
    if len(a.bag_sizes) != num_sparse or not all(1 <= s <= 10000 for s in a.bag_sizes):
        fail("--multi-hot: need %d bag sizes in 1..10000" % num_sparse)
    for name in ("batch", "iters", "rows_per_feature", "distinct_batches"):
        if getattr(a, name) <= 0:
            fail("--%s must be positive" % name.replace("_", "-"))
    if a.warmup < 0 or a.threads < 0:
        fail("--warmup and --threads must be >= 0")
    threads = a.threads if a.threads > 0 else (os.cpu_count() or 1)
    if a.device == "cpu":
        # OpenMP and a pthread OpenBLAS read these at load time; set before importing torch
        # (unless the caller set them) so the GEMM library uses the same thread count.
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(var, str(threads))
        # Debian's torch runs its own loops on libgomp but its GEMMs on a pthread OpenBLAS:
        # with libgomp's default spin-wait its idle workers steal the cores OpenBLAS's threads
        # need (measured ~1.5-2x slower on 2 cores). Passive waiting gives the stronger
        # yardstick; OMP_WAIT_POLICY=ACTIVE in the environment restores the default.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

    try:
        import torch
    except ImportError:
        fail("cannot import torch with %s: this yardstick needs PyTorch "
             "(Debian: apt install python3-torch, then run it with /usr/bin/python3)"
             % sys.executable)

    if a.device == "cuda" and not torch.cuda.is_available():
        fail("--device cuda requested but torch %s sees no CUDA GPU" % torch.__version__)
    device = torch.device(a.device)
    # TF32 explicitly on or off (PyTorch's defaults differ across versions).
    torch.backends.cuda.matmul.allow_tf32 = a.tf32
    torch.backends.cudnn.allow_tf32 = a.tf32
    if a.device == "cpu":
        torch.set_num_threads(threads)
        device_name = cpu_model_name()
    else:
        device_name = torch.cuda.get_device_name(device)
        threads = torch.get_num_threads()

    torch.manual_seed(0)
    model = build(torch, a.config, a.rows_per_feature, a.dense_only).to(device)
    dense_params = [p for n, p in model.named_parameters() if not n.startswith("emb.")]
    emb_params = [p for n, p in model.named_parameters() if n.startswith("emb.")]
    # Two plain SGD optimizers, as model_bench has a dense and an embedding optimizer.
    optims = [torch.optim.SGD(dense_params, lr=0.01)]
    if emb_params:
        optims.append(torch.optim.SGD(emb_params, lr=0.01))  # sparse gradients
    loss_fn = torch.nn.BCEWithLogitsLoss()  # mean over the batch
    batches = make_batches(torch, a, device)

    def step(b):
        for o in optims:
            o.zero_grad(set_to_none=True)  # 2.x default; explicit for 1.13
        logits = model(b["dense"], b.get("ids"), b.get("offsets"), b.get("pooled"))
        loss = loss_fn(logits, b["labels"])
        loss.backward()
        for o in optims:
            o.step()
        return loss

    model.train()
    for i in range(a.warmup):
        step(batches[i % len(batches)])
    if a.device == "cuda":
        torch.cuda.synchronize()
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for i in range(a.iters):
            step(batches[i % len(batches)])
        end.record()
        torch.cuda.synchronize()
        secs = start.elapsed_time(end) / 1000.0
    else:
        t0 = time.perf_counter()
        for i in range(a.iters):
            step(batches[i % len(batches)])
        secs = time.perf_counter() - t0
    sps = a.iters * a.batch / secs

    out = {
        "backend": "pytorch-" + a.device, "config": a.config, "batch": a.batch,
        "tf32": a.tf32, "threads": threads, "iters": a.iters, "dense_only": a.dense_only,
        "interaction": "dcn" if a.config in CROSS else "dot",
        "multi_hot": a.multi_hot or "none", "ids_per_sample": sum(a.bag_sizes),
        "samples_per_s": sps, "torch_version": torch.__version__, "device_name": device_name,
    }
    if a.json:
        print(json.dumps(out))
    else:
        print("pytorch-%s %s batch %d%s: %.0f samples/s (torch %s, %s, %d threads)" % (
            a.device, a.config, a.batch, " dense-only" if a.dense_only else "", sps,
            torch.__version__, device_name, threads))
    return 0


if __name__ == "__main__":
    sys.exit(main())
