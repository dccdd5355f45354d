#!/usr/bin/env python3
"""Turns the first C# block of each package readme into a source file that compiles against the packages.

    python3 scripts/readme-snippets.py OUT_DIR README.md [README.md ...]

A package readme's first ```csharp block is written as a top-level program: using directives, then statements, then
(optionally) type declarations. Each becomes OUT_DIR/Readme<N>.cs: its using directives at the top, its statements
as the body of `static async Task RunAsync(string[] args)` in a class of its own, and its type declarations after
that, all in a namespace of its own, so several readmes compile into one app (scripts/package-check.sh builds it
from the packages alone), and OUT_DIR/Snippets.cs runs one of them by its index: `Snippets.RunAsync(index, args)`
(package-check runs those that need no files or hardware of their own).
A readme without a C# block is an error: every shipping package shows its use.
"""
import pathlib
import re
import sys

USING = re.compile(r"^using\s+(static\s+)?[\w.]+(\s*=\s*[\w.<>, ]+)?;\s*(//.*)?$")
DECLARATION = re.compile(
    r"^(///|\[|((public|internal|file)\s+)?((sealed|static|abstract|partial|readonly)\s+)*(class|record|struct|interface|enum)\s)")


def first_csharp_block(text: str, source: str) -> list[str]:
    lines = text.splitlines()
    for start, line in enumerate(lines):
        if line.strip() == "```csharp":
            for end in range(start + 1, len(lines)):
                if lines[end].strip() == "```":
                    return lines[start + 1:end]
            raise SystemExit(f"{source}: the ```csharp block is not closed")
    raise SystemExit(f"{source}: no ```csharp block (a package readme shows its package's use)")


def to_source(block: list[str], index: int, source: str) -> str:
    usings, body, declarations = [], [], []
    for line in block:
        if declarations or (not line.startswith((" ", "\t")) and DECLARATION.match(line)):
            declarations.append(line)
        elif not body and (USING.match(line) or not line.strip()):
            if line.strip():
                usings.append(line)
        else:
            body.append(line)
    while body and not body[-1].strip():
        body.pop()
    if not body:
        raise SystemExit(f"{source}: the first C# block has no statements")
    out = [f"// From {source}: its first C# block, compiled against the packages by scripts/package-check.sh.",
           "#pragma warning disable CS1998 // a snippet need not await", *usings, "",
           f"namespace ReadmeSnippets.Readme{index};", "",
           "internal static class Snippet", "{",
           "    public static async Task RunAsync(string[] args)", "    {",
           *[("        " + line) if line.strip() else "" for line in body],
           "    }", "}", "", *declarations, ""]
    return "\n".join(out)


def main() -> None:
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    out = pathlib.Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    readmes = sys.argv[2:]
    for index, readme in enumerate(readmes):
        block = first_csharp_block(pathlib.Path(readme).read_text(encoding="utf-8"), readme)
        (out / f"Readme{index}.cs").write_text(to_source(block, index, readme), encoding="utf-8")
    cases = "\n".join(f"        {i} => ReadmeSnippets.Readme{i}.Snippet.RunAsync(args)," for i in range(len(readmes)))
    (out / "Snippets.cs").write_text(
        "// Runs one readme's snippet by its index (the order of the readmes given to scripts/readme-snippets.py).\n"
        "internal static class Snippets\n{\n"
        "    public static Task RunAsync(int index, string[] args) => index switch\n    {\n"
        f"{cases}\n"
        "        _ => throw new ArgumentOutOfRangeException(nameof(index), index, \"No such readme.\"),\n"
        "    };\n}\n", encoding="utf-8")


if __name__ == "__main__":
    main()
