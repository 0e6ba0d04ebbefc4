"""Cut the runtime stage out of a generated Containerfile, to build it from a local binary.

This machine cannot pull the Rust builder image, so tests build the final stage exactly as the
template wrote it, with one change: the binary comes from the build context instead of the
builder stage.
"""

from __future__ import annotations

import re

COPY_FROM_BUILDER = re.compile(r"^COPY --from=builder (\S+) (\S+)$", re.MULTILINE)


def runtime_stage(containerfile: str, binary_in_context: str) -> str:
    """The text from the last FROM on, with the builder's binary taken from the context."""
    starts = [m.start() for m in re.finditer(r"^FROM ", containerfile, re.MULTILINE)]
    if not starts:
        raise ValueError("no FROM line")
    stage = containerfile[starts[-1] :]
    stage, copies = COPY_FROM_BUILDER.subn(rf"COPY {binary_in_context} \2", stage)
    if copies != 1:
        raise ValueError(f"expected one COPY --from=builder in the final stage, found {copies}")
    return stage
