"""Import time and per-call overhead of the Python layer over the Rust API.

`Enclosure.seconds` is the time spent inside `lipcert::sigma` (Rust, GIL
released, on an already built `DenseMatrix`); the wall time of
`lipcert.sigma(w)` minus it is what the binding adds: array conversion,
the exact strided read into a new matrix, the finiteness scan, releasing
the GIL and building the result. Run: `target/pyenv/bin/python
bindings/python/bench/overhead.py` (single-threaded BLAS not needed: NumPy
is not used for the computation).
"""

import statistics
import subprocess
import sys
import time

import numpy as np


def import_time(module, repeats=7):
    """Median wall time of `python -c "import module"` minus that of `import numpy`."""
    def run(code):
        best = []
        for _ in range(repeats):
            t = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True)
            best.append(time.perf_counter() - t)
        return statistics.median(best)

    base = run("import numpy")
    return run(f"import numpy, {module}") - base, base


def main():
    import lipcert

    extra, base = import_time("lipcert")
    print(f"import lipcert: +{extra * 1e3:.1f} ms over `import numpy` ({base * 1e3:.1f} ms)")
    rng = np.random.default_rng(1)
    for n, reps in ((64, 300), (1024, 5)):
        for dtype in ("float64", "float32"):
            w = rng.standard_normal((n, n)).astype(dtype)
            lipcert.sigma(w)  # warm up
            wall, rust = [], []
            for _ in range(reps):
                t = time.perf_counter()
                e = lipcert.sigma(w)
                wall.append(time.perf_counter() - t)
                rust.append(e.seconds)
            over = statistics.median(a - b for a, b in zip(wall, rust))
            print(
                f"{n}x{n} {dtype}: python call {statistics.median(wall) * 1e3:.3f} ms, "
                f"Rust lipcert::sigma {statistics.median(rust) * 1e3:.3f} ms, "
                f"overhead {over * 1e6:.0f} µs ({over / statistics.median(rust) * 100:.1f} %)"
            )


if __name__ == "__main__":
    main()
