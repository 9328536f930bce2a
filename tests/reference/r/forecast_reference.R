# Reference numbers from R's forecast package for seqlab's tests.
#
# Run from the repository root:  Rscript tests/reference/r/forecast_reference.R [M3_DIR]
# (or `make r-reference`). Needs R with the forecast package (Debian: r-cran-forecast).
# Writes small CSV fixtures to tests/reference/fixtures/; the tests read those and need no R.
#
# Series: the two bundled with seqlab (read from src/seqlab/datasets/data, so R sees the
# very same numbers) and a fixed set of M3 series: the first ten of each period in
# unique_id order, training part only, read from M3_DIR (default ../shared/data/m3).

suppressPackageStartupMessages(library(forecast))

args <- commandArgs(trailingOnly = TRUE)
m3_dir <- if (length(args) >= 1) args[1] else file.path("..", "shared", "data", "m3")
out_dir <- file.path("tests", "reference", "fixtures")
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

read_bundled <- function(name) {
  frame <- read.csv(file.path("src", "seqlab", "datasets", "data", paste0(name, ".csv")))
  frame[[2]]
}

series <- list(
  list(id = "airline", y = read_bundled("airline"), m = 12L, h = 24L),
  list(id = "airline_log", y = log(read_bundled("airline")), m = 12L, h = 24L),
  list(id = "nile", y = read_bundled("nile"), m = 1L, h = 10L)
)

meta <- read.csv(file.path(m3_dir, "m3_meta.csv"), stringsAsFactors = FALSE)
values <- read.csv(file.path(m3_dir, "m3_series.csv"), stringsAsFactors = FALSE)
values <- values[values$split == "train", ]
meta <- meta[order(meta$unique_id), ]
for (period in c("YEARLY", "QUARTERLY", "MONTHLY", "OTHER")) {
  rows <- head(meta[meta$period == period, ], 10)
  for (i in seq_len(nrow(rows))) {
    uid <- rows$unique_id[i]
    part <- values[values$unique_id == uid, ]
    part <- part[order(part$t), ]
    series[[length(series) + 1]] <- list(id = uid, y = part$y, m = as.integer(rows$m[i]),
                                         h = as.integer(rows$h[i]))
  }
}

fmt <- function(x) sprintf("%.17g", x)

orders <- list()
forecasts <- list()
lambdas <- list()
diffs <- list()
for (s in series) {
  y <- ts(s$y, frequency = s$m)
  fit <- auto.arima(y)
  arma <- fit$arma  # p, q, P, Q, m, d, D
  coefs <- names(coef(fit))
  orders[[length(orders) + 1]] <- data.frame(
    series = s$id, m = s$m, n = length(s$y),
    p = arma[1], d = arma[6], q = arma[2], P = arma[3], D = arma[7], Q = arma[4],
    constant = as.integer("intercept" %in% coefs || "drift" %in% coefs),
    loglik = fmt(fit$loglik), aicc = fmt(fit$aicc), sigma2 = fmt(fit$sigma2)
  )
  fc <- forecast(fit, h = s$h, level = c(80, 95))
  forecasts[[length(forecasts) + 1]] <- data.frame(
    series = s$id, step = seq_len(s$h), mean = fmt(as.numeric(fc$mean)),
    lo80 = fmt(as.numeric(fc$lower[, 1])), hi80 = fmt(as.numeric(fc$upper[, 1])),
    lo95 = fmt(as.numeric(fc$lower[, 2])), hi95 = fmt(as.numeric(fc$upper[, 2]))
  )
  if (all(s$y > 0)) {
    lambdas[[length(lambdas) + 1]] <- data.frame(
      series = s$id, m = s$m,
      guerrero = fmt(BoxCox.lambda(y, method = "guerrero")),
      loglik = fmt(BoxCox.lambda(y, method = "loglik"))
    )
  }
  diffs[[length(diffs) + 1]] <- data.frame(
    series = s$id, m = s$m,
    ndiffs_kpss = ndiffs(y, test = "kpss"), ndiffs_adf = ndiffs(y, test = "adf"),
    ndiffs_pp = ndiffs(y, test = "pp"),
    nsdiffs_seas = if (s$m > 1 && length(s$y) >= 2 * s$m) nsdiffs(y, test = "seas") else NA,
    nsdiffs_ocsb = if (s$m > 1 && length(s$y) >= 2 * s$m) nsdiffs(y, test = "ocsb") else NA
  )
}

write_fixture <- function(rows, name) {
  frame <- do.call(rbind, rows)
  write.csv(frame, file.path(out_dir, name), row.names = FALSE, quote = FALSE)
}
write_fixture(orders, "auto_arima_orders.csv")
write_fixture(forecasts, "auto_arima_forecasts.csv")
write_fixture(lambdas, "boxcox_lambda.csv")
write_fixture(diffs, "ndiffs.csv")
versions <- data.frame(
  what = c("R", "forecast", "urca"),
  version = c(paste(R.version$major, R.version$minor, sep = "."),
              as.character(packageVersion("forecast")), as.character(packageVersion("urca")))
)
write.csv(versions, file.path(out_dir, "r_versions.csv"), row.names = FALSE, quote = FALSE)
cat("wrote", length(series), "series to", out_dir, "\n")
