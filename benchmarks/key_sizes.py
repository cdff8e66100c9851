"""What a bigger RSA key costs an Expressway-E (guide appendix A: use 4096 bits, not 8192).

    python benchmarks/key_sizes.py [--repeat N] [--update-readme]

For the E's key at 2048, 4096 and 8192 bits (labkit's fixture keys): the signature length, the sizes of the E's
Certificate and CertificateVerify messages in a real TLS 1.3 traversal-zone handshake (mutual TLS, both sides in
this process), and the median time of N RSA-SHA256 signatures and of N full handshakes. Reported, never asserted.
``--update-readme`` writes the result between ``<!-- bench:keys -->`` and ``<!-- /bench:keys -->`` in README.md.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from labkit.chapters.ch09_troubleshooting import key_sizes


def markdown(table) -> str:
    columns = list(table.columns)
    numeric = [table[c].dtype.kind in "if" for c in columns]
    lines = ["| " + " | ".join(columns) + " |", "|" + "".join("---:|" if n else "---|" for n in numeric)]
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(f"{v:,.1f}" if isinstance(v, float) else str(v) for v in row) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="measurements per key size (default 20)")
    parser.add_argument("--update-readme", action="store_true", help="write the table into README.md")
    args = parser.parse_args(argv)
    table = key_sizes(repeat=args.repeat)
    lines = [markdown(table), ""]
    base = table.set_index("key")
    for column in ("sign (ms)", "handshake (ms)"):
        ratios = ", ".join(f"{key} {base.loc[key, column] / base.loc['RSA-2048', column]:.1f}x"
                           for key in ("RSA-4096", "RSA-8192"))
        lines.append(f"- {column.removesuffix(' (ms)')} time against RSA-2048: {ratios}")
    result = "\n".join(lines)
    print(result)
    if args.update_readme:
        readme = Path(__file__).resolve().parent.parent / "README.md"
        readme.write_text(re.sub(r"(<!-- bench:keys -->\n).*?(\n<!-- /bench:keys -->)",
                                 lambda m: m.group(1) + result + m.group(2), readme.read_text(), flags=re.S))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
