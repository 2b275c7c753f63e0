"""Font files bundled with the project (see README.md in this folder for sources and licences)."""

from pathlib import Path

FONTS_DIR = Path(__file__).resolve().parent

CJK_SANS = FONTS_DIR / "WenQuanYiMicroHei.ttf"
"""WenQuanYi Micro Hei: CJK + Latin sans-serif, TrueType outlines, Apache-2.0."""

CJK_SANS_COMMON = FONTS_DIR / "WenQuanYiMicroHei-common.ttf"
"""The same font cut down to GB 2312's ideographs and every non-ideograph character
(`messages.fonts.common`): a PDF's font subset is made from it when it has every glyph the
document uses, a tenth of the time, the same bytes."""

MONO_ASCII = FONTS_DIR / "WenQuanYiMicroHeiMono-ASCII.ttf"
"""WenQuanYi Micro Hei Mono subset to printable ASCII, for pickup codes."""

__all__ = ["CJK_SANS", "CJK_SANS_COMMON", "FONTS_DIR", "MONO_ASCII"]
