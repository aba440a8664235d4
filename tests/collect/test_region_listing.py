"""Whole-region (fleet) collection lists instances and scaling targets once per region, not per 50
clusters."""

from __future__ import annotations

import boto3

from auditor.collect.aws import AwsContext
from auditor.collect.topology import collect_snapshot


def test_many_clusters_use_one_unfiltered_listing(ctx: AwsContext) -> None:
    rds = boto3.client("rds", region_name="us-east-1")
    aas = boto3.client("application-autoscaling", region_name="us-east-1")
    n = 60  # more than one db-cluster-id filter (50) holds
    for i in range(n):
        cid = f"c{i:02d}"
        rds.create_db_cluster(
            DBClusterIdentifier=cid,
            Engine="aurora-postgresql",
            EngineVersion="16.8",
            MasterUsername="postgres",
            MasterUserPassword="not-a-secret-1",
        )
        rds.create_db_instance(
            DBInstanceIdentifier=f"{cid}-1",
            DBClusterIdentifier=cid,
            Engine="aurora-postgresql",
            DBInstanceClass="db.r6g.large",
        )
        if i % 20 == 0:
            aas.register_scalable_target(
                ServiceNamespace="rds",
                ResourceId=f"cluster:{cid}",
                ScalableDimension="rds:cluster:ReadReplicaCount",
                MinCapacity=2,
                MaxCapacity=4,
            )
    # an instance of a MySQL cluster in the same region: listed, but not ours
    rds.create_db_cluster(
        DBClusterIdentifier="mysql",
        Engine="aurora-mysql",
        MasterUsername="admin",
        MasterUserPassword="not-a-secret-1",
    )
    rds.create_db_instance(
        DBInstanceIdentifier="mysql-1",
        DBClusterIdentifier="mysql",
        Engine="aurora-mysql",
        DBInstanceClass="db.r6g.large",
    )

    snap = collect_snapshot(ctx, "us-east-1", None)
    calls = {c.operation: c.calls for c in snap.calls}
    assert len([c for c in snap.clusters if c.role == "target"]) == n
    assert {i.cluster_id for i in snap.instances} == {f"c{i:02d}" for i in range(n)}
    assert calls["rds.DescribeDBInstances"] == 1  # 61 instances: one page of 100, no per-chunk filter calls
    assert calls["application-autoscaling.DescribeScalableTargets"] == 1
    assert {t.cluster_id for t in snap.scalable_targets} == {"c00", "c20", "c40"}
