"""The benchmark's size tools read the real image: a host build's layer figure stands for an
image's, and the section groups account for the whole binary an image ships."""

from __future__ import annotations

import pytest

from tooling.binary_size import OTHER, layer_gzip_bytes, section_groups, tar_gzip_bytes

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("built_image", ["defaults"], indirect=True)
def test_a_lone_binary_compresses_like_the_image_layer_holding_it(built_image):
    """The lever measurements compress host builds; the size rows compress image layers."""
    layer = layer_gzip_bytes(built_image.archive)
    alone = tar_gzip_bytes(built_image.binary)

    assert abs(layer - alone) < layer / 1000


@pytest.mark.parametrize("built_image", ["defaults"], indirect=True)
def test_section_groups_account_for_the_binary(built_image):
    groups = section_groups(built_image.binary)

    assert sum(groups.values()) == built_image.binary.stat().st_size
    # Headers and alignment only: every sizeable section belongs to a named group.
    assert groups[OTHER] < built_image.binary.stat().st_size / 100
    assert max(groups, key=groups.__getitem__) == "code"
