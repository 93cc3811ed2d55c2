# Where one run of ours spent its wall time, from its --json report and $wall (the command's
# wall time, seconds), as five parts that add up to $wall:
#   before_first_worker  the job's start to the first piece's start (probe, version checks, the
#                        cut's first files)
#   all_busy             the first piece's start to the end of the first worker to finish
#   imbalance_wait       that end to the last worker's end (a worker idle while another works)
#   join_tail            the last piece's end to the job's end (the join, the output renamed)
#   outside_job          the rest of the command: start-up, option checks, clean-up
# plus cut and join (split_time, merge_time: the phases, which may overlap the pieces).
def breakdown($wall):
	([.timeline[] | select(.phase == "parallel")]) as $par
	| ($par | group_by(.worker) | map(max_by(.end).end)) as $ends
	| ($par | map(.start) | min) as $first
	| {before_first_worker: $first, all_busy: (($ends | min) - $first),
	   imbalance_wait: (($ends | max) - ($ends | min)), join_tail: (.total_time - ($ends | max)),
	   outside_job: ($wall - .total_time), cut: .split_time, join: .merge_time};
