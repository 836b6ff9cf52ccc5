"""Reader: SourceFile -> Datums (LANGUAGE.md §1)."""
