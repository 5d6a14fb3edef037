library(testthat)
library(simjobs)

test_check("simjobs")
