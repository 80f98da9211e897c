"""Front matter read with libyaml's loader gives exactly what the pure-Python loader gives."""

from __future__ import annotations

from pathlib import Path

import frontmatter
import pytest
import yaml

from masthead.collect import markdown

from .conftest import ROOT, SAMPLES

FRONT_MATTERS = [
    "title: خبر\ndate: 2022-05-06\ntags: [اقتصاد, سياسة]\n",
    "date: 2022-05-06T09:30:00+03:00\nupdated: 2022-13-45\nlang: no\n",
    "authors:\n  - name: هيئة التحرير\n  - Desk\nimage: {url: https://x.example/a.jpg, width: 800}\n",
    "summary: >\n  سطر أول\n  وسطر ثان\nid: 42\nslug: '007'\ndraft: true\n",
]


class _PurePython(yaml.SafeLoader):
    """The pure-Python safe loader with masthead's timestamp rule, to compare against."""


_PurePython.add_constructor("tag:yaml.org,2002:timestamp", markdown._timestamp_or_text)


class _PureHandler(frontmatter.YAMLHandler):
    def load(self, fm: str, **kwargs: object) -> object:
        return yaml.load(fm, Loader=_PurePython)


def markdown_files() -> list[Path]:
    return sorted([*(ROOT / "feeds").rglob("*.md"), *SAMPLES.rglob("*.md")])


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML was built without libyaml here")
class TestLibyamlLoader:
    def test_masthead_uses_libyaml_when_present(self) -> None:
        """The front-matter loader is built on libyaml's CSafeLoader."""
        assert issubclass(markdown._Loader, yaml.CSafeLoader)

    @pytest.mark.parametrize("text", FRONT_MATTERS)
    def test_same_values_as_the_pure_python_loader(self, text: str) -> None:
        """Dates, impossible dates, lists, nested maps and Arabic text load identically."""
        assert yaml.load(text, Loader=_PurePython) == yaml.load(text, Loader=markdown._Loader)

    def test_every_sample_article_gives_the_same_record(self) -> None:
        """Each Markdown file of the sample publication and the test samples reads the same both ways."""
        files = markdown_files()
        assert files
        for path in files:
            text = path.read_text("utf-8")
            try:
                pure = frontmatter.loads(text, handler=_PureHandler()).metadata
            except yaml.YAMLError:
                continue        # a sample of broken front matter: both loaders refuse it (tested elsewhere)
            fast = frontmatter.loads(text, handler=markdown._Handler()).metadata
            assert pure == fast, path
