"""The ``alphaflops fit`` command (being written)."""


def configure(parser):
    pass


def run(args):
    raise NotImplementedError("alphaflops fit is being written")
