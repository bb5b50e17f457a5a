"""The ``alphaflops merge`` command: join measured shards into one dataset file."""

from alphaflops.harness.output import MERGE_FIELDS, merge_parts, write_document


def configure(parser):
    """Add the options of ``alphaflops merge``."""
    parser.add_argument("parts", nargs="+", metavar="PART", help="dataset files written by 'alphaflops measure --shard'")
    parser.add_argument("--out", required=True, help="merged dataset JSON file to write")
    parser.add_argument("--name", help="name of the merged dataset (default: the first part's, without the shard suffix)")
    parser.epilog = (
        f"Parts must agree on {', '.join(MERGE_FIELDS)}; dates and repetition counts may differ "
        "and are kept per part in run.parts."
    )


def run(args):
    """Merge the parts, write the result and print what it holds; return 0."""
    document = merge_parts(args.parts, name=args.name)
    write_document(document, args.out)

    run_record = document["run"]
    print(
        f"{args.out}: {run_record['measured']} of {run_record['sweep_size']} configurations of sweep "
        f"{run_record['sweep']['name']!r} from {len(args.parts)} parts, {len(run_record['failures'])} failed"
    )
    return 0
