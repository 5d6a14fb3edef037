"""An optional monthly cost budget for the platform, with e-mail alerts.

IAM cannot cap how many instances a job asks for or how long jobs run in total; the client's limits are advisory
against direct API use. The hard ceilings are the account's SageMaker service quotas (instances per type for
Processing); this budget is the early warning on top of them.
"""

from __future__ import annotations

from aws_cdk import aws_budgets as budgets
from constructs import Construct

# Alerts: when the month's actual spend passes 80% of the budget, and when AWS forecasts it will pass 100%.
ACTUAL_ALERT_PERCENT = 80
FORECAST_ALERT_PERCENT = 100


class PlatformBudget(Construct):
    """Cost of everything tagged `platform=<name>` (the tag must be activated as a cost-allocation tag in the
    Billing console, once per account, before the budget sees anything)."""

    def __init__(self, scope: Construct, construct_id: str, *, platform_name: str, monthly_usd: int, email: str):
        super().__init__(scope, construct_id)
        subscriber = budgets.CfnBudget.SubscriberProperty(subscription_type="EMAIL", address=email)
        self.budget = budgets.CfnBudget(
            self,
            "Budget",
            budget=budgets.CfnBudget.BudgetDataProperty(
                budget_type="COST",
                time_unit="MONTHLY",
                budget_limit=budgets.CfnBudget.SpendProperty(amount=monthly_usd, unit="USD"),
                cost_filters={"TagKeyValue": [f"user:platform${platform_name}"]},
            ),
            notifications_with_subscribers=[
                budgets.CfnBudget.NotificationWithSubscribersProperty(
                    notification=budgets.CfnBudget.NotificationProperty(
                        notification_type=kind,
                        comparison_operator="GREATER_THAN",
                        threshold=percent,
                        threshold_type="PERCENTAGE",
                    ),
                    subscribers=[subscriber],
                )
                for kind, percent in (("ACTUAL", ACTUAL_ALERT_PERCENT), ("FORECASTED", FORECAST_ALERT_PERCENT))
            ],
        )
