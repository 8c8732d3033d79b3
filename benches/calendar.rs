//! add_working_days across spans of 1 to 500 working days: the time should not grow with the span.
//! Also the cost of building the shipped calendar (done once per data change, not per request).

use std::hint::black_box;

use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use lcspr_tracker::domain::calendar::{Calendar, Division};

const SPANS: [i32; 7] = [1, 5, 15, 50, 130, 260, 500];

fn add_working_days(c: &mut Criterion) {
    let calendar = Calendar::shipped();
    let from = NaiveDate::from_ymd_opt(2025, 12, 18).unwrap();
    let division = Division::EnglandAndWales;
    let mut group = c.benchmark_group("add_working_days");
    for n in SPANS {
        group.bench_with_input(BenchmarkId::new("forward", n), &n, |b, &n| {
            b.iter(|| calendar.add_working_days(division, black_box(from), black_box(n)))
        });
        group.bench_with_input(BenchmarkId::new("backward", n), &n, |b, &n| {
            b.iter(|| calendar.add_working_days(division, black_box(from), black_box(-n)))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("count_working_days");
    for n in SPANS {
        let to = calendar.add_working_days(division, from, n).unwrap().date;
        group.bench_with_input(BenchmarkId::from_parameter(n), &to, |b, &to| {
            b.iter(|| calendar.count_working_days(division, black_box(from), black_box(to)))
        });
    }
    group.finish();
}

fn build(c: &mut Criterion) {
    c.bench_function("Calendar::shipped", |b| b.iter(Calendar::shipped));
}

criterion_group!(benches, add_working_days, build);
criterion_main!(benches);
