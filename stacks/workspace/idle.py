"""Idle stop: a CloudWatch alarm stops the host when its CPU stays low, so a forgotten workspace stops billing
for compute. The EBS root volume and EFS homes are kept; `aws ec2 start-instances` brings it back."""

from __future__ import annotations

import math

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_ec2 as ec2
from constructs import Construct


def alarm_window(minutes: int) -> tuple[int, int]:
    """(period in minutes, evaluation periods) covering at least `minutes`.

    CloudWatch allows at most one day of evaluation for periods under an hour and seven days for hourly
    periods; detailed monitoring gives one-minute data points for short windows.
    """
    if minutes <= 0:
        raise ValueError("idle minutes must be positive")
    if minutes <= 60:
        return 1, minutes
    if minutes <= 24 * 60:
        return 5, math.ceil(minutes / 5)
    if minutes <= 7 * 24 * 60:
        return 60, math.ceil(minutes / 60)
    raise ValueError(f"an idle period of {minutes} minutes is longer than CloudWatch can evaluate (7 days)")


class IdleStop(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, instance: ec2.Instance, minutes: int, cpu_percent: float
    ) -> None:
        super().__init__(scope, construct_id)
        period, periods = alarm_window(minutes)
        cpu = cloudwatch.Metric(
            namespace="AWS/EC2",
            metric_name="CPUUtilization",
            dimensions_map={"InstanceId": instance.instance_id},
            statistic=cloudwatch.Stats.AVERAGE,
            period=cdk.Duration.minutes(period),
        )
        self.alarm = cloudwatch.Alarm(
            self,
            "Alarm",
            alarm_description=(
                f"Stops the RStudio host after {minutes} minutes with CPU below {cpu_percent}% "
                "(start it again with aws ec2 start-instances)"
            ),
            metric=cpu,
            threshold=cpu_percent,
            evaluation_periods=periods,
            datapoints_to_alarm=periods,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            # A stopped host sends no data: that must neither stop it again nor count as busy.
            treat_missing_data=cloudwatch.TreatMissingData.MISSING,
        )
        self.alarm.add_alarm_action(cw_actions.Ec2Action(cw_actions.Ec2InstanceAction.STOP))
