"""A small rule set for offer tests: a gated retroactive plan and a capped marginal one."""

RULES = """\
id: offers-test
version: "1"
currency: USD
locale: en_US
effective: {from: 2026-01-01, to: 2026-12-31}
dimensions:
  seniority: [senior]
  company_size: [large]
  region: [metro, non_metro]
bands:
  - from: 2026-01-01
    by: [region]
    values:
      metro:     {min: 90000, mid: 100000, max: 110000}
      non_metro: {min: 80000, mid: 90000, max: 100000}
plans:
  gated:
    components:
      - {id: base, kind: base_salary, annual: roster}
      - id: commission
        kind: commission
        quota: roster
        gate: 0.5
        tiers:
          method: retroactive
          measure: attainment
          bands:
            - {id: building, from: 0, to: 0.8, rate: 0.03}
            - {id: on_target, from: 0.8, rate: 0.05}
      - {id: car, kind: allowance, amount: 500}
  capped:
    components:
      - {id: base, kind: base_salary, annual: roster, pay_frequency: semi_monthly}
      - id: commission
        kind: commission
        quota: roster
        tiers:
          method: marginal
          measure: attainment
          bands:
            - {id: standard, from: 0, to: 1.0, rate: 0.10}
            - {id: accelerator, from: 1.0, rate: 0.15}
        cap: {per: plan_year, amount: 120000}
      - id: club
        kind: bonus
        method: fixed
        target: {amount: 5000}
        floor: 1.0
"""
