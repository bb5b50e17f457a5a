"""The ``alphaflops audit`` command (being written)."""


def configure(parser):
    pass


def run(args):
    raise NotImplementedError("alphaflops audit is being written")
