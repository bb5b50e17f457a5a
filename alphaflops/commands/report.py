"""The ``alphaflops report`` command (being written)."""


def configure(parser):
    pass


def run(args):
    raise NotImplementedError("alphaflops report is being written")
