"""The single error type raised by the pfcon client."""

from __future__ import annotations


class PfconError(Exception):
    """A pfcon call failed; `transient` tells a caller whether trying later may help."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        transient: bool = False,
        operation: str | None = None,
    ) -> None:
        self.message = message
        self.status_code = status_code
        self.transient = transient
        self.operation = operation
        super().__init__(self._describe())

    def _describe(self) -> str:
        where = f"pfcon {self.operation}" if self.operation else "pfcon"
        if self.status_code is None:
            return f"{where} failed: {self.message}"
        return f"{where} failed with HTTP {self.status_code}: {self.message}"

    def __reduce__(self):
        # Celery pickles exceptions; rebuild from the attributes, not from `args`.
        return _rebuild, (self.message, self.status_code, self.transient, self.operation)

    def __repr__(self) -> str:
        return (
            f"PfconError({self.message!r}, status_code={self.status_code!r}, "
            f"transient={self.transient!r}, operation={self.operation!r})"
        )


def _rebuild(
    message: str, status_code: int | None, transient: bool, operation: str | None
) -> PfconError:
    return PfconError(message, status_code=status_code, transient=transient, operation=operation)
