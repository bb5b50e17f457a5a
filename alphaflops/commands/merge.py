"""The ``alphaflops merge`` command: join measured shards into one dataset file."""

import sys
from pathlib import Path

from alphaflops.harness.output import MERGE_FIELDS, merge_parts, write_document

#: Exit status when the parts leave configurations of the sweep out and --allow-partial is not given.
EXIT_PARTIAL = 3


def configure(parser):
    """Add the options of ``alphaflops merge``."""
    parser.add_argument("parts", nargs="+", metavar="PART", help="dataset files written by 'alphaflops measure --shard'")
    parser.add_argument(
        "--out", required=True, help="merged dataset JSON file to write; it must not be one of the parts"
    )
    parser.add_argument("--force", action="store_true", help="replace an existing --out file")
    parser.add_argument(
        "--allow-partial",
        action="store_true",
        help="write the merged file even when the parts leave configurations of the sweep out",
    )
    parser.add_argument("--name", help="name of the merged dataset (default: the first part's, without the shard suffix)")
    parser.epilog = (
        f"Parts must agree on {', '.join(MERGE_FIELDS)}; dates and repetition counts may differ "
        "and are kept per part in run.parts. "
        f"Exit status: 0 when written; 1 on an invalid part or --out; {EXIT_PARTIAL} when the parts "
        "leave configurations of the sweep out (nothing is written unless --allow-partial, which "
        "writes the file, warns and exits 0)."
    )


def run(args):
    """Merge the parts, write the result and print what it contains; return the exit status."""
    out = Path(args.out)
    check_merge_output(out, args.parts, args.force)
    document = merge_parts(args.parts, name=args.name)

    run_record = document["run"]
    missing = run_record["missing"]
    if missing and not args.allow_partial:
        print(
            f"alphaflops merge: error: the parts leave {missing} of {run_record['sweep_size']} configurations "
            f"of sweep {run_record['sweep']['name']!r} out; add the missing shards, or pass --allow-partial "
            f"to write {out} anyway",
            file=sys.stderr,
        )
        return EXIT_PARTIAL

    write_document(document, out)
    print(
        f"{out}: {run_record['measured']} of {run_record['sweep_size']} configurations of sweep "
        f"{run_record['sweep']['name']!r} from {len(args.parts)} parts, {len(run_record['failures'])} failed"
    )
    if missing:
        print(f"alphaflops merge: warning: {missing} configurations of the sweep are missing", file=sys.stderr)
    return 0


def check_merge_output(out, parts, force):
    """Raise ValueError if ``out`` is one of ``parts``, or exists without ``force``."""
    for part in parts:
        if _same_file(out, Path(part)):
            raise ValueError(f"--out {out} is also one of the parts to merge; choose another --out")
    if out.is_dir():
        raise ValueError(f"--out {out} is a folder; give the path of a dataset JSON file")
    if out.exists() and not force:
        raise ValueError(f"{out} already exists; choose another --out, or pass --force to replace it")


def _same_file(first, second):
    try:
        return first.samefile(second)
    except OSError:
        return first.resolve() == second.resolve()
