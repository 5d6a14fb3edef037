"""The boot rehearsal (`make rehearse-boot`): the RStudio host's bootstrap run in a systemd container."""
