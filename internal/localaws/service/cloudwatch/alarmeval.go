package cloudwatch

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Alarm states.
const (
	stateOK           = "OK"
	stateAlarm        = "ALARM"
	stateInsufficient = "INSUFFICIENT_DATA"
)

// comparisons are the threshold comparison operators and the words of a
// state reason; the anomaly-detection operators need a ThresholdMetricId,
// which the layer refuses (metric math is not emulated).
var comparisons = map[string]struct {
	words  string
	breach func(v, threshold float64) bool
}{
	"GreaterThanOrEqualToThreshold": {"greater than or equal to", func(v, t float64) bool { return v >= t }},
	"GreaterThanThreshold":          {"greater than", func(v, t float64) bool { return v > t }},
	"LessThanThreshold":             {"less than", func(v, t float64) bool { return v < t }},
	"LessThanOrEqualToThreshold":    {"less than or equal to", func(v, t float64) bool { return v <= t }},
}

// missingTreatments are the TreatMissingData values; "missing" is the default.
var missingTreatments = map[string]bool{"missing": true, "ignore": true, "breaching": true, "notBreaching": true}

// rule is what an alarm compares: the newest N periods' statistic against
// the threshold, ALARM when M of them breach.
type rule struct {
	threshold  float64
	comparison string
	periods    int // EvaluationPeriods, N
	toAlarm    int // DatapointsToAlarm, M (N when unset)
	missing    string
	statistic  string
	period     int32
}

// sample is one period's value; ok is false for a missing datapoint.
type sample struct {
	at    time.Time // the period's start
	value float64
	ok    bool
}

// outcome is an evaluation's verdict: the state (or "" to keep the current
// one) and AWS's reason sentence and reason data.
type outcome struct {
	state, reason, data string
}

// evaluate applies CloudWatch's documented alarm semantics ("Evaluating an
// alarm" and "Configuring how CloudWatch alarms treat missing data") to the
// newest N periods, oldest first:
//   - M of N breaching datapoints put the alarm in ALARM;
//   - notBreaching and breaching count a missing datapoint as within or past
//     the threshold;
//   - missing: when every datapoint of the range is missing the alarm goes to
//     INSUFFICIENT_DATA; ignore: the alarm keeps its state;
//   - otherwise, with missing or ignore, the datapoints present decide: OK
//     once even the missing ones breaching could not make M, else the state
//     is kept (the local AWS's reading of "evaluates only the datapoints
//     present"; it does not look back past N periods for more).
func evaluate(r rule, samples []sample, now time.Time) outcome {
	m := r.toAlarm
	if m <= 0 {
		m = r.periods
	}
	cmp := comparisons[r.comparison]
	var breaching, present, unknown int
	var shown []string
	for i := len(samples) - 1; i >= 0; i-- { // newest first, as AWS lists them
		s := samples[i]
		if !s.ok {
			switch r.missing {
			case "breaching":
				breaching++
			case "notBreaching":
			default:
				unknown++
			}
			continue
		}
		present++
		if cmp.breach(s.value, r.threshold) {
			breaching++
		}
		shown = append(shown, formatValue(s.value)+" ("+s.at.UTC().Format("02/01/06 15:04:05")+")")
	}
	n := len(samples)
	data := reasonData(r, samples, now)
	switch {
	case present == 0 && r.missing == "ignore":
		return outcome{}
	case present == 0 && unknown > 0:
		return outcome{stateInsufficient, fmt.Sprintf("Insufficient Data: %s %s unknown.", plural(unknown, "datapoint"), wasWere(unknown)), data}
	case present == 0:
		treated := map[string]string{"breaching": "Breaching", "notBreaching": "NonBreaching"}[r.missing]
		state := stateOK
		if breaching >= m {
			state = stateAlarm
		}
		return outcome{state, fmt.Sprintf("Threshold Crossed: no datapoints were received for %s and %s %s treated as [%s].",
			plural(n, "period"), plural(n, "missing datapoint"), wasWere(n), treated), data}
	case breaching >= m:
		return outcome{stateAlarm, crossed(r, cmp.words, breaching, n, shown, m, "OK -> ALARM", false), data}
	case breaching+unknown >= m:
		return outcome{} // the missing datapoints could still make M: not enough to leave the state
	default:
		return outcome{stateOK, crossed(r, cmp.words, n-breaching, n, shown, n-m+1, "ALARM -> OK", true), data}
	}
}

// crossed is AWS's sentence for a threshold crossing, e.g. "Threshold
// Crossed: 1 out of the last 1 datapoints [5.0 (02/12/26 14:05:00)] was
// greater than the threshold (0.0) (minimum 1 datapoint for OK -> ALARM
// transition)."
func crossed(r rule, words string, count, of int, shown []string, minimum int, transition string, not bool) string {
	verb := wasWere(count)
	if not {
		verb += " not"
	}
	return fmt.Sprintf("Threshold Crossed: %d out of the last %d datapoints [%s] %s %s the threshold (%s) (minimum %s for %s transition).",
		count, of, strings.Join(shown, ", "), verb, words, formatValue(r.threshold), plural(minimum, "datapoint"), transition)
}

// reasonData is the alarm's StateReasonData: the JSON AWS attaches to a
// threshold evaluation.
func reasonData(r rule, samples []sample, now time.Time) string {
	var ts, vs []string
	for i := len(samples) - 1; i >= 0; i-- {
		if samples[i].ok {
			ts = append(ts, `"`+samples[i].at.UTC().Format("2006-01-02T15:04:05.000+0000")+`"`)
			vs = append(vs, formatValue(samples[i].value))
		}
	}
	return `{"version":"1.0","queryDate":"` + now.UTC().Format("2006-01-02T15:04:05.000+0000") +
		`","statistic":"` + r.statistic + `","period":` + strconv.Itoa(int(r.period)) + `,"recentDatapoints":[` + strings.Join(vs, ",") + `],"evaluatedDatapoints":[` + strings.Join(ts, ",") +
		`],"threshold":` + formatValue(r.threshold) + `}`
}

func formatValue(v float64) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

func wasWere(n int) string {
	if n == 1 {
		return "was"
	}
	return "were"
}
