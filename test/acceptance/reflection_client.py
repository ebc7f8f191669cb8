"""Generic gRPC client that knows only the reflection protocol, not learnloop's proto.

Usage: python3 reflection_client.py ADDR REFLECTION_PROTO_DIR OUT_DIR

Compiles grpc/reflection/v1 and v1alpha reflection.proto, asks the server for its services and
their files, builds a descriptor pool from the answers (as grpcurl and grpcui do), then calls
Recommend and Observe by name with snake_case fields. Prints one JSON object with what it saw.
"""
import json
import os
import shutil
import sys

import grpc
from grpc_tools import protoc
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory

addr, proto_dir, out_dir = sys.argv[1:4]
for version in ("v1", "v1alpha"):
    # Compiled under another folder name: a module path starting with grpc. would shadow grpcio.
    os.makedirs(f"{out_dir}/reflection_{version}")
    shutil.copy(f"{proto_dir}/grpc/reflection/{version}/reflection.proto", f"{out_dir}/reflection_{version}/")
    rc = protoc.main(["protoc", f"-I{out_dir}", f"--python_out={out_dir}", f"--grpc_python_out={out_dir}",
                      f"reflection_{version}/reflection.proto"])
    if rc != 0:
        sys.exit(f"protoc failed for {version}: {rc}")
sys.path.insert(0, out_dir)
from reflection_v1 import reflection_pb2 as v1_pb, reflection_pb2_grpc as v1_rpc  # noqa: E402
from reflection_v1alpha import reflection_pb2 as v1a_pb, reflection_pb2_grpc as v1a_rpc  # noqa: E402

channel = grpc.insecure_channel(addr)
SERVICE = "learnloop.v1.LearnLoopService"


def ask(pb, rpc, **request):
    """One request on a reflection stream; returns the response or exits with its error."""
    stub = rpc.ServerReflectionStub(channel)
    [res] = list(stub.ServerReflectionInfo(iter([pb.ServerReflectionRequest(**request)]), timeout=10))
    if res.HasField("error_response"):
        raise LookupError(res.error_response.error_code, res.error_response.error_message)
    return res


def files(pb, rpc, **request):
    out = [descriptor_pb2.FileDescriptorProto.FromString(b)
           for b in ask(pb, rpc, **request).file_descriptor_response.file_descriptor_proto]
    return {f.name: f for f in out}


report = {}
for name, pb, rpc in (("v1", v1_pb, v1_rpc), ("v1alpha", v1a_pb, v1a_rpc)):
    listed = ask(pb, rpc, list_services="*").list_services_response.service
    report[f"services_{name}"] = sorted(s.name for s in listed)

# Everything the service's file needs, fetched the way generic clients do: by symbol, then any
# missing dependency by file name.
known = files(v1_pb, v1_rpc, file_containing_symbol=SERVICE)
report["file_of_service"] = next(iter(known))
missing = [d for f in known.values() for d in f.dependency if d not in known]
while missing:
    name = missing.pop()
    if name in known:
        continue
    known.update(files(v1_pb, v1_rpc, file_by_filename=name))
    missing.extend(d for f in known.values() for d in f.dependency if d not in known)
report["by_filename"] = sorted(files(v1_pb, v1_rpc, file_by_filename="learnloop/v1/learnloop.proto"))
report["google_rpc"] = sorted(files(v1a_pb, v1a_rpc, file_containing_symbol="google.rpc.BadRequest"))
try:
    files(v1_pb, v1_rpc, file_by_filename="learnloop_v1.proto")
    report["made_up_name"] = "found"
except LookupError as err:
    report["made_up_name"] = err.args[0]  # a gRPC status code
report["dependencies"] = {name: list(f.dependency) for name, f in sorted(known.items())}

pool = descriptor_pool.DescriptorPool()
added = set()


def add(name):
    """Adds a file after its dependencies, as the pool requires."""
    if name in added:
        return
    for dep in known[name].dependency:
        add(dep)
    pool.Add(known[name])
    added.add(name)


for name in known:
    add(name)

service = pool.FindServiceByName(SERVICE)
report["methods"] = [m.name for m in service.methods]
observe_fields = pool.FindMessageTypeByName("learnloop.v1.ObserveRequest").fields
report["observe_fields"] = {f.name: f.json_name for f in observe_fields}


def message_class(desc):
    # protobuf >= 4.22 has GetMessageClass; Debian 12's 4.21 has the factory's GetPrototype.
    if hasattr(message_factory, "GetMessageClass"):
        return message_factory.GetMessageClass(desc)
    return message_factory.MessageFactory(pool).GetPrototype(desc)


def call(method_name, fields):
    method = service.methods_by_name[method_name]
    req_cls, res_cls = message_class(method.input_type), message_class(method.output_type)
    request = json_format.ParseDict(fields, req_cls())
    invoke = channel.unary_unary(f"/{SERVICE}/{method_name}", request_serializer=req_cls.SerializeToString,
                                 response_deserializer=res_cls.FromString)
    res = invoke(request, timeout=10)
    return json_format.MessageToDict(res, preserving_proto_field_name=True, including_default_value_fields=True)


rec = call("Recommend", {"task_class": "docs", "repo": "acme/api", "candidate_template_ids": ["docs@v1", "docs@v2"]})
report["recommend"] = {k: rec[k] for k in ("chosen_template_id", "decision_id")}
report["recommend_ranked"] = sorted(r["template_id"] for r in rec["ranking"])
obs = call("Observe", {"run_id": "reflect-1", "decision_id": rec["decision_id"], "outcome": "OUTCOME_PASS",
                       "finished_at": "2026-12-01T10:00:00Z", "duration_seconds": 12})
report["observe"] = {"duplicate": obs["duplicate"], "observations": obs["posterior"]["observations"]}
scores = call("GetScores", {"task_class": "docs", "repo": "acme/api"})
report["scores"] = {c["template_id"]: c["runs"] for c in scores["scorecards"]}
print(json.dumps(report, indent=1, sort_keys=True))
