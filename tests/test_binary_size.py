"""The benchmark's size tools read the real image: a host build's layer figure stands for an
image's, the section groups account for the whole binary an image ships, and each ratio to the
blog recipe divides a layer by the blog's layer measured the same way."""

from __future__ import annotations

import gzip
import json
import tarfile

import pytest
import yaml

from tooling.binary_size import (
    BLOG_RECIPE_LAYER_BYTES,
    BUILDAH_GZIP,
    GZIP_6,
    MEASURES,
    OTHER,
    LayerSize,
    blog_ratio,
    blog_recipe_layer,
    image_layer_sizes,
    layer_gzip_bytes,
    ratio,
    section_groups,
    tar_gzip_bytes,
)
from tooling.image import Buildah

IMAGE = pytest.mark.slow


@IMAGE
@pytest.mark.parametrize("built_image", ["defaults"], indirect=True)
def test_a_lone_binary_compresses_like_the_image_layer_holding_it(built_image):
    """The lever measurements compress host builds; the size rows compress image layers."""
    layer = layer_gzip_bytes(built_image.archive)
    alone = tar_gzip_bytes(built_image.binary)

    assert abs(layer - alone) < layer / 1000


@IMAGE
@pytest.mark.parametrize("built_image", ["defaults"], indirect=True)
def test_section_groups_account_for_the_binary(built_image):
    groups = section_groups(built_image.binary)

    assert sum(groups.values()) == built_image.binary.stat().st_size
    # Headers and alignment only: every sizeable section belongs to a named group.
    assert groups[OTHER] < built_image.binary.stat().st_size / 100
    assert max(groups, key=groups.__getitem__) == "code"


def pushed_layer_bytes(buildah: Buildah, image: str, layout) -> int:
    """The layer blob buildah writes when it pushes `image` with gzip, read from the blob."""
    buildah("push", "--quiet", "--compression-format", "gzip", image, f"oci:{layout}")
    index = json.loads((layout / "index.json").read_text(encoding="utf-8"))
    manifest_digest = index["manifests"][0]["digest"].split(":")[1]
    manifest = json.loads((layout / "blobs" / "sha256" / manifest_digest).read_bytes())
    (layer,) = manifest["layers"]
    blob = (layout / "blobs" / "sha256" / layer["digest"].split(":")[1]).read_bytes()
    assert blob[:2] == b"\x1f\x8b"  # gzip
    return len(blob)


@IMAGE
@pytest.mark.parametrize("built_image", ["defaults", "low-port-abort-s-system"], indirect=True)
def test_each_ratio_divides_a_layer_by_the_blogs_measured_the_same_way(
    buildah, built_image, tmp_path
):
    """The figures are what their measure says, the blog's constants are labelled with the
    measures these functions take, and each ratio pairs figures of one measure."""
    answers = yaml.safe_load((built_image.project / ".copier-answers.yml").read_text("utf-8"))
    panic = answers.get("panic_strategy", "unwind")
    sizes = image_layer_sizes(buildah, built_image.tag, built_image.archive, tmp_path)
    layers = {layer.measure: layer for layer in sizes}
    assert set(layers) == set(MEASURES)

    # Each figure is what its label says, measured here without image_layer_sizes.
    with tarfile.open(built_image.archive) as archive:
        (layer_name,) = json.load(archive.extractfile("manifest.json"))[0]["Layers"]
        layer_tar = archive.extractfile(layer_name).read()
    assert layers[GZIP_6].bytes == len(gzip.compress(layer_tar, compresslevel=6))
    pushed = pushed_layer_bytes(buildah, built_image.tag, tmp_path / "pushed")
    assert layers[BUILDAH_GZIP].bytes == pushed

    # The blog's two figures stand in the proportion the two measures give our own layer (about
    # 6 % apart): constants filed under the wrong measure would invert it.
    ours = layers[BUILDAH_GZIP].bytes / layers[GZIP_6].bytes
    blog = (
        BLOG_RECIPE_LAYER_BYTES["unwind", BUILDAH_GZIP] / BLOG_RECIPE_LAYER_BYTES["unwind", GZIP_6]
    )
    assert ours > 1.03  # the measures differ enough for a mix to show
    assert ours == pytest.approx(blog, rel=0.02)

    # Each ratio is the row's figure over the blog's of the same panic strategy and measure.
    for measure, layer in layers.items():
        blog_bytes = BLOG_RECIPE_LAYER_BYTES.get((panic, measure))
        expected = None if blog_bytes is None else round(layer.bytes / blog_bytes, 3)
        assert blog_ratio(layer, panic) == expected, measure
    # Control: the pair the ratio column used to divide is refused.
    with pytest.raises(ValueError, match="cannot divide"):
        ratio(layers[GZIP_6], blog_recipe_layer("unwind", BUILDAH_GZIP))


def test_a_ratio_refuses_a_mixed_pair_and_is_left_out_where_the_blog_was_not_measured():
    level_6, by_buildah = LayerSize(1_566_403, GZIP_6), LayerSize(1_656_750, BUILDAH_GZIP)

    assert blog_ratio(level_6, "unwind") == 0.759  # over 2,064,064, the blog's at level 6
    assert blog_ratio(by_buildah, "unwind") == 0.755  # over 2,195,067, as buildah pushed it
    # The blog's abort build has no byte figure as buildah gzips it: no ratio, not a mixed one.
    assert blog_ratio(by_buildah, "abort") is None
    with pytest.raises(ValueError, match="cannot divide"):
        ratio(level_6, by_buildah)
