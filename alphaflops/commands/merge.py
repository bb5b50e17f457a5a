"""The ``alphaflops merge`` command (being written)."""


def configure(parser):
    pass


def run(args):
    raise NotImplementedError("alphaflops merge is being written")
