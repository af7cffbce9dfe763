"""The windows of the text around the cursor that are read and parsed (`windows`)."""

from __future__ import annotations

import pytest

from lsp_server.syntax.rules import rules_for
from lsp_server.syntax.windows import suffix_parse_window


@pytest.mark.parametrize(
    ("language", "suffix", "window", "goes_on"),
    [
        # up to (not through) the next definition at column 0
        ("go", "\n\treturn x\n}\n\nfunc b() {\n}\n", "\n\treturn x\n}\n", False),
        ("python", "\n    return x\n\n# note\ndef g():\n    pass\n", "\n    return x\n\n# note", False),
        # C's preprocessor lines and labels at column 0 stand inside a body
        ("c", "\n    x = 1;\n#endif\n    y = 2;\ndone:\n    return y;\n}\n", "\n    x = 1;\n#endif\n    y = 2;\ndone:\n    return y;\n}\n", False),
        # the end of the text
        ("java", "\n    }\n}\n", "\n    }\n}\n", False),
        # 40 lines at most, then back to the last line at the shallowest depth in the second half
        ("java", "\n        g();\n    }\n" + "".join(f"    void m{i}() {{\n        x({i});\n    }}\n" for i in range(15)) + "}\n",
         ("\n        g();\n    }\n" + "".join(f"    void m{i}() {{\n        x({i});\n    }}\n" for i in range(12)))[:-1], True),
        # ... and not on an annotation, which belongs to the method after it
        ("java", "\n        g();\n    }\n" + "".join(f"    @Override\n    void m{i}() {{\n        x({i});\n    }}\n" for i in range(15)) + "}\n",
         ("\n        g();\n    }\n" + "".join(f"    @Override\n    void m{i}() {{\n        x({i});\n    }}\n" for i in range(9)))[:-1], True),
    ],
)
def test_suffix_parse_window(language: str, suffix: str, window: str, goes_on: bool) -> None:
    assert suffix_parse_window(suffix, rules_for(language), 40) == (window, goes_on)
