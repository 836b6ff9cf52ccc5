"""The engine's choice of machine-code level for modules with a huge function."""

from fluentai.llvm import engine


def _function(name: str, body_chars: int) -> str:
    return (
        f'define internal i64 @"{name}"()\n{{\nentry:\n' + ";" * body_chars + "\n  ret i64 0\n}\n"
    )


def test_small_modules_keep_their_level() -> None:
    text = "; module\n" + "".join(_function(f"f{i}", 1000) for i in range(50))
    assert not engine.has_huge_function(text)


def test_many_functions_of_moderate_size_are_not_one_huge_function() -> None:
    size = engine.HUGE_FUNCTION_CHARS // 3
    text = "; module\n" + "".join(_function(f"f{i}", size) for i in range(6))
    assert len(text) > engine.HUGE_FUNCTION_CHARS
    assert not engine.has_huge_function(text)


def test_one_huge_function_is_found_wherever_it_is() -> None:
    small = _function("small", 100)
    huge = _function("huge", engine.HUGE_FUNCTION_CHARS + 1)
    for text in ("; m\n" + huge + small, "; m\n" + small + huge, "; m\n" + small + huge + small):
        assert engine.has_huge_function(text)
