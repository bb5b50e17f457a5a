"""The ``alphaflops datasets`` command (being written)."""


def configure(parser):
    pass


def run(args):
    raise NotImplementedError("alphaflops datasets is being written")
