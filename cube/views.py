"""View behaviour shared by the apps."""


class PartialUpdate:
    """PUT changes only the fields the request carries, as CUBE's PUTs do."""

    def update(self, request, *args, **kwargs):
        kwargs["partial"] = True
        return super().update(request, *args, **kwargs)
