"""Cross-language acceptance client: compiled from proto/ with grpcio-tools, no learnloop code.

Usage: python3 python_client.py ADDR PROTO_DIR OUT_DIR learn|scores

'learn' registers three templates, reports 300 outcomes in one task class and repository (one
template passes 80%, the others 30%), checks what the issue's "done means" asks, and prints the
scorecards as JSON; 'scores' only prints the scorecards (to compare after a restart).
"""
import json
import random
import sys

from grpc_tools import protoc
import grpc

addr, proto_dir, out_dir, mode = sys.argv[1:5]
import grpc_tools

well_known = grpc_tools.__path__[0] + "/_proto"
rc = protoc.main(["protoc", f"-I{proto_dir}", f"-I{well_known}", f"--python_out={out_dir}",
                  f"--grpc_python_out={out_dir}", "learnloop/v1/learnloop.proto"])
if rc != 0:
    sys.exit(f"protoc failed: {rc}")
sys.path.insert(0, out_dir)
from learnloop.v1 import learnloop_pb2 as pb  # noqa: E402
from learnloop.v1 import learnloop_pb2_grpc as rpc  # noqa: E402

stub = rpc.LearnLoopServiceStub(grpc.insecure_channel(addr))
TC, REPO = "bug-fix", "acme/api"
GOOD, OTHERS = "fix-tdd@v1", ["fix-quick@v1", "fix-plan@v1"]


def scores():
    res = stub.GetScores(pb.GetScoresRequest(task_class=TC, repo=REPO))
    return {c.template_id: {"runs": c.runs, "pass_rate": c.pass_rate, "mean": c.posterior.mean,
                            "alpha": c.posterior.alpha, "beta": c.posterior.beta} for c in res.scorecards}


def check(cond, what):
    if not cond:
        sys.exit(f"FAILED: {what}")
    print(f"ok: {what}", file=sys.stderr)


if mode == "learn":
    for t in [GOOD, *OTHERS]:
        stub.RegisterTemplate(pb.RegisterTemplateRequest(template_id=t))
    rng = random.Random(7)
    runs = []
    for t in [GOOD, *OTHERS]:
        passes = 80 if t == GOOD else 30
        runs += [(t, i < passes) for i in range(100)]
    rng.shuffle(runs)
    for i, (t, passed) in enumerate(runs):
        stub.Observe(pb.ObserveRequest(
            run_id=f"run-{i}", template_id=t, task_class=TC, repo=REPO, task_id=f"bd-{i}", attempt=1,
            outcome=pb.OUTCOME_PASS if passed else pb.OUTCOME_FAIL, duration_seconds=300 + i))
    chosen = 0
    last = None
    for i in range(100):
        last = stub.Recommend(pb.RecommendRequest(task_class=TC, repo=REPO))
        chosen += last.chosen_template_id == GOOD
    best = next(r for r in last.ranking if r.template_id == GOOD)
    check(chosen >= 90, f"{GOOD} chosen in {chosen} of 100 Recommends (>= 90)")
    check(best.prob_best > 0.95, f"prob_best {best.prob_best:.4f} > 0.95")
    check(last.lift.ci_low > 0, f"lift interval [{last.lift.ci_low:.3f}, {last.lift.ci_high:.3f}] above zero")
    check(last.rationale != "", "rationale: " + last.rationale)
    fresh = stub.Recommend(pb.RecommendRequest(task_class=TC, repo="acme/new-service"))
    top = max(fresh.ranking, key=lambda r: r.prob_best)
    check(top.template_id == GOOD and top.posterior.evidence_level == pb.EVIDENCE_LEVEL_TASK_CLASS,
          f"new repository prefers {top.template_id} (prob_best {top.prob_best:.3f}) from task-class evidence")
    before = scores()
    dup = stub.Observe(pb.ObserveRequest(
        run_id="run-0", template_id=runs[0][0], task_class=TC, repo=REPO, task_id="bd-0", attempt=1,
        outcome=pb.OUTCOME_PASS if runs[0][1] else pb.OUTCOME_FAIL, duration_seconds=300))
    check(dup.duplicate and not dup.applied, "a repeated run_id is a duplicate")
    check(scores() == before, "a repeated run_id changes nothing")
    try:
        stub.Observe(pb.ObserveRequest(run_id="", outcome=pb.OUTCOME_UNSPECIFIED))
        check(False, "bad input is rejected")
    except grpc.RpcError as e:
        check(e.code() == grpc.StatusCode.INVALID_ARGUMENT and "run_id" in e.details(),
              f"bad input is INVALID_ARGUMENT naming the field: {e.details()}")
print(json.dumps(scores(), sort_keys=True))
