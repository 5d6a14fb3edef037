"""Deploy-time checks of a landing zone's network (plain Python + boto3, tested against moto)."""
