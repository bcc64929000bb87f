//! What a run did, and how fast: one line per stage.

use std::time::Duration;

use kubeplug::Table;

/// One stage of creates or deletes.
#[derive(Debug, Clone)]
pub struct Stage {
    /// What was created or deleted, e.g. `ReplicaSets`.
    pub what: String,
    /// How many.
    pub count: usize,
    /// Wall time of the stage.
    pub elapsed: Duration,
}

/// The stages of a run, in order.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Stages run.
    pub stages: Vec<Stage>,
}

impl Report {
    /// A table: WHAT, COUNT, SECONDS, PER SECOND, and a total line.
    pub fn table(&self) -> Table {
        let mut table = Table::new(["WHAT", "COUNT", "SECONDS", "PER SECOND"]);
        let row = |what: &str, count: usize, elapsed: Duration| {
            let secs = elapsed.as_secs_f64();
            let rate = if secs > 0.0 { format!("{:.0}", count as f64 / secs) } else { "-".into() };
            [what.to_string(), count.to_string(), format!("{secs:.2}"), rate]
        };
        for s in &self.stages {
            table.row(row(&s.what, s.count, s.elapsed));
        }
        let count = self.stages.iter().map(|s| s.count).sum();
        let elapsed = self.stages.iter().map(|s| s.elapsed).sum();
        table.row(row("total", count, elapsed));
        table
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_a_rate_per_stage_and_a_total() {
        let report = Report {
            stages: vec![
                Stage { what: "namespaces".into(), count: 10, elapsed: Duration::from_millis(100) },
                Stage { what: "ReplicaSets".into(), count: 1000, elapsed: Duration::from_millis(400) },
            ],
        };
        let text = report.table().render(true);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("WHAT"), "{text}");
        assert!(lines[2].contains("ReplicaSets") && lines[2].contains("0.40") && lines[2].contains("2500"), "{text}");
        assert!(lines[3].starts_with("total") && lines[3].contains("1010") && lines[3].contains("0.50"), "{text}");
    }
}
