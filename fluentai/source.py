"""Source text and spans: the only place that opens program files.

A `SourceFile` holds decoded text (UTF-8, `\r\n` already folded to `\n`). A `Span` is a
half-open range of code-point offsets into it; line and column (both from 1, columns
counting code points) are computed on demand.
"""

from __future__ import annotations

import bisect

from fluentai.records import field, record


class SourceDecodeError(Exception):
    """The bytes of a program are not valid UTF-8; `offset` is the code point where it fails."""

    def __init__(self, name: str, line: int, col: int, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.line = line
        self.col = col
        self.message = message


BOM = "\ufeff"  # the byte order mark some editors put at the start of a UTF-8 file


@record(frozen=False, eq=False, slots=False)
class SourceFile:
    """One program text. `name` is what reports print (the path as given, `<eval>`, `<repl>`)."""

    name: str
    text: str
    _line_starts: list[int] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        starts = [0]
        for i, ch in enumerate(self.text):
            if ch == "\n":
                starts.append(i + 1)
        self._line_starts = starts

    @staticmethod
    def from_bytes(name: str, data: bytes) -> SourceFile:
        """Decode UTF-8 strictly (a leading byte order mark dropped, CRLF line ends read as
        LF); raise SourceDecodeError at the first bad byte."""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            good = data[: exc.start].decode("utf-8")
            line = good.count("\n") + 1
            col = len(good) - (good.rfind("\n") + 1) + 1
            raise SourceDecodeError(
                name, line, col, f"invalid UTF-8 byte 0x{data[exc.start]:02x}"
            ) from None
        if text.startswith(BOM):  # an editor's byte order mark: not part of the program
            text = text[1:]
        return SourceFile(name, text.replace("\r\n", "\n"))

    @staticmethod
    def from_path(path: str) -> SourceFile:
        """Read a program file (OSError propagates to the driver, which reports usage errors)."""
        with open(path, "rb") as f:
            return SourceFile.from_bytes(path, f.read())

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based line and column of a code-point offset."""
        index = bisect.bisect_right(self._line_starts, offset) - 1
        return index + 1, offset - self._line_starts[index] + 1

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its newline."""
        start = self._line_starts[line - 1]
        end = self.text.find("\n", start)
        return self.text[start:] if end < 0 else self.text[start:end]


@record
class Span:
    """Code points [start, end) of `file`."""

    file: SourceFile
    start: int
    end: int

    @property
    def line(self) -> int:
        return self.file.line_col(self.start)[0]

    @property
    def col(self) -> int:
        return self.file.line_col(self.start)[1]

    def to(self, other: Span) -> Span:
        """The span from the start of self to the end of other."""
        return Span(self.file, self.start, other.end)

    def __repr__(self) -> str:
        line, col = self.file.line_col(self.start)
        return f"{self.file.name}:{line}:{col}"
