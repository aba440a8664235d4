"""GetMetricData results whose StatusCode is InternalError/Forbidden are collection errors, not "no data".

moto always answers Complete, so the response is given with botocore's Stubber, shaped like the
GetMetricData API reference (MetricDataResults[].Id/Label/Timestamps/Values/StatusCode).
"""

from __future__ import annotations

from datetime import UTC, datetime

from botocore.stub import ANY, Stubber

from auditor.collect.alarms import collect_metrics
from auditor.collect.aws import AwsContext
from auditor.collect.state import Collection
from auditor.models.snapshot import Instance


def test_unanswered_query_is_an_error_answered_one_a_value(ctx: AwsContext) -> None:
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    col = Collection(ctx, "123456789012", 60, now)
    for iid, writer in (("prod-app-1", True), ("prod-app-2", False), ("prod-app-3", False)):
        inst = Instance(
            id=iid,
            region="us-east-1",
            account="123456789012",
            cluster_id="prod-app",
            instance_class="db.r6g.large",
            is_writer=writer,
        )
        col.instances[("us-east-1", iid)] = inst
    cw = ctx.client("cloudwatch", "us-east-1")
    with Stubber(cw) as stub:
        stub.add_response(
            "get_metric_data",
            {
                "MetricDataResults": [
                    {
                        "Id": "m0v0",
                        "Label": "AuroraReplicaLag",
                        "Timestamps": [now],
                        "Values": [12.0],
                        "StatusCode": "Complete",
                    },
                    {
                        "Id": "m1v0",
                        "Label": "AuroraReplicaLag",
                        "Timestamps": [],
                        "Values": [],
                        "StatusCode": "InternalError",
                    },
                ]
            },
            {"MetricDataQueries": ANY, "StartTime": ANY, "EndTime": ANY},
        )
        collect_metrics(col, "us-east-1")
    assert [(m.dimensions, m.value) for m in col.metrics] == [({"DBInstanceIdentifier": "prod-app-2"}, 12.0)]
    assert len(col.errors) == 1
    err = col.errors[0]
    assert (err.operation, err.code, err.cluster) == ("GetMetricData", "InternalError", "prod-app")
    assert "prod-app-3" in err.resource
