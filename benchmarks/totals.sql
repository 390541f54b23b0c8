-- Each employee's total pay for one period of rules/account_managers.yaml, by hand in DuckDB.
--
-- The reference the benchmark holds compcalc to: the same figures compcalc's run_period gives
-- without paid_to_date (earlier periods of the plan year replayed from the same ledger as it
-- stood at each period's end), to the cent, for the population benchmarks/generate.py makes.
-- It is written for this one rule file: every rate, band, gate, cap, table and date below is
-- copied from the YAML (the plan and component named in each comment); nothing calls compcalc.
--
-- Parameters (DuckDB prepared parameters): $roster and $ledger, the Parquet paths (text
-- columns as generate.py writes them), and $period, the month to pay as 'YYYY-MM'.
-- Result: one row per roster employee, amounts as BIGINT cents (never a float):
--   employee_id, base, allowances, commission, bonus, draw, override, total.
--
-- Scope (benchmarks/bench_batch.py checks the inputs are inside it before comparing):
--   * everyone is employed for the whole plan year (no hire or termination date inside it), so
--     no installment or draw is prorated and no sale is excluded for employment dates;
--   * the ledger passes compcalc's row checks (nothing rejected), every row is in USD, no sale
--     is split between employees (no `share` column) and nothing is read from `margin`.
--
-- Money: ledger and roster amounts are parsed from text to integer cents; rates are written
-- as integers over a power of ten (4.5 % = 45 / 1000) so every product is an exact integer;
-- each figure compcalc rounds (an installment, a due to date, a bonus target) is rounded once,
-- half up, as (2 * n + d) // (2 * d): every numerator rounded here is >= 0. `/` is a float
-- division in DuckDB, so it is never used; `//` on integers is exact.
--
-- How a period's pay is reached (compcalc docs/design.md, "Due to date, itemised"):
--   commission, bonuses and overrides are due to date over the plan year; the period pays
--   due at its end minus what the earlier periods paid. Without caps or draws that is the due
--   at this month's end minus the due at last month's end. The per-period cap and the draw of
--   business development managers carry state from month to month: they are walked month by
--   month from October (a recursive CTE), as compcalc's replay does.

WITH RECURSIVE

params AS (
    -- The plan year starts on 1 October (plan_year.start_month: 10); months are numbered
    -- 1 (October) .. 12 (September) within it, and `k` is the month being paid.
    SELECT
        period_start,
        last_day(period_start) AS period_end,
        year_start,
        (year(period_start) * 12 + month(period_start))
            - (year(year_start) * 12 + month(year_start)) + 1 AS k
    FROM (
        SELECT
            period_start,
            make_date(year(period_start) - CASE WHEN month(period_start) < 10 THEN 1 ELSE 0 END,
                      10, 1) AS year_start
        FROM (SELECT CAST($period || '-01' AS DATE) AS period_start)
    )
),

roster AS (
    SELECT
        employee_id,
        role,
        seniority,
        company_size,
        region,
        CAST(CAST(annual_base AS DECIMAL(18, 2)) * 100 AS BIGINT) AS base,
        CAST(CAST(NULLIF(quota, '') AS DECIMAL(18, 2)) * 100 AS BIGINT) AS quota,
        CAST(hire_date AS DATE) AS hired,
        CAST(NULLIF(termination_date, '') AS DATE) AS left_on,
        NULLIF(manager_id, '') AS manager_id
    FROM read_parquet($roster)
),

ledger AS (
    SELECT
        transaction_id,
        employee_id,
        event,
        CAST(date AS DATE) AS day,
        CAST(CAST(NULLIF(amount, '') AS DECIMAL(18, 2)) * 100 AS BIGINT) AS cents
    FROM read_parquet($ledger)
),

-- ---------------------------------------------------------------------------------------------
-- Sales and the events that change what they earn (compcalc engine/crediting.py)

sales AS (
    -- A sale earns only inside the plan year and the employee's employment (excluded if not).
    SELECT
        l.transaction_id,
        l.employee_id,
        l.day AS sold_on,
        l.cents AS amount,
        l.day >= p.year_start AND l.day >= r.hired
            AND (r.left_on IS NULL OR l.day <= r.left_on) AS eligible
    FROM ledger AS l
    JOIN roster AS r USING (employee_id)
    CROSS JOIN params AS p
    WHERE l.event = 'sale'
),

disputes AS (
    -- Clawback window (clawback.window_days: 90): a dispute opened more than 90 days after
    -- its sale never holds it, and the resolution that closes it changes nothing either.
    SELECT
        d.transaction_id,
        d.day,
        d.event = 'dispute_opened' AS opens,
        d.event = 'dispute_opened' AND d.day > s.sold_on + 90 AS late
    FROM ledger AS d
    JOIN sales AS s USING (transaction_id)
    WHERE d.event IN ('dispute_opened', 'dispute_resolved')
),

counted_disputes AS (
    SELECT transaction_id, day, opens
    FROM (
        SELECT
            *,
            -- on one day an opening comes before a resolution
            lag(late, 1, FALSE) OVER (
                PARTITION BY transaction_id ORDER BY day, NOT opens
            ) AS closes_late
        FROM disputes
    )
    WHERE NOT late AND NOT (NOT opens AND closes_late)
),

refunds AS (
    -- A refund more than 90 days after its sale takes nothing back from a sale that had been
    -- paid: credited at the end of the month before the refund, with no dispute open then or
    -- on the refund's day. Such a refund is dropped; every other refund reduces the sale.
    SELECT r.transaction_id, r.day, r.cents
    FROM (
        SELECT
            l.transaction_id,
            l.day,
            l.cents,
            s.sold_on,
            s.eligible,
            CAST(date_trunc('month', l.day) AS DATE) - 1 AS month_before
        FROM ledger AS l
        JOIN sales AS s USING (transaction_id)
        WHERE l.event = 'refund'
    ) AS r
    WHERE NOT (
        r.day > r.sold_on + 90
        AND r.eligible
        AND r.sold_on <= r.month_before
        AND (SELECT coalesce(sum(CASE WHEN c.opens THEN 1 ELSE -1 END), 0)
             FROM counted_disputes AS c
             WHERE c.transaction_id = r.transaction_id AND c.day <= r.month_before) = 0
        AND (SELECT coalesce(sum(CASE WHEN c.opens THEN 1 ELSE -1 END), 0)
             FROM counted_disputes AS c
             WHERE c.transaction_id = r.transaction_id AND c.day <= r.day) = 0
    )
),

followed AS (
    -- The sales something happens to after they are sold (about one in ten).
    SELECT DISTINCT transaction_id
    FROM (SELECT transaction_id FROM refunds UNION ALL SELECT transaction_id FROM counted_disputes)
),

followed_days AS (
    -- For those, each day something happens: its refunds, and its dispute openings (+1) and
    -- resolutions (-1), added up.
    SELECT transaction_id, day, sum(refunded) AS refunded, sum(opened) AS opened
    FROM (
        SELECT transaction_id, sold_on AS day, 0 AS refunded, 0 AS opened
        FROM sales
        JOIN followed USING (transaction_id)
        UNION ALL
        SELECT transaction_id, day, cents, 0 FROM refunds
        UNION ALL
        SELECT transaction_id, day, 0, CASE WHEN opens THEN 1 ELSE -1 END FROM counted_disputes
    )
    GROUP BY transaction_id, day
),

followed_standing AS (
    -- What such a sale earns at the end of each of those days: dispute-free credit is the
    -- amount less refunds to date, 0 while a dispute is open or once fully refunded.
    SELECT
        d.transaction_id,
        s.employee_id,
        d.day,
        CASE
            WHEN s.eligible
                AND sum(d.opened) OVER w = 0
                AND s.amount - sum(d.refunded) OVER w > 0
            THEN s.amount - sum(d.refunded) OVER w
            ELSE 0
        END AS credited
    FROM followed_days AS d
    JOIN sales AS s USING (transaction_id)
    WINDOW w AS (PARTITION BY d.transaction_id ORDER BY d.day
                 ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
),

sale_steps AS (
    -- Every change in a sale's credit, dated: the credit before and after it. A sale nothing
    -- happens to earns its whole amount from the day it is sold, for good (if eligible).
    SELECT employee_id, sold_on AS day, 0 AS before, CASE WHEN eligible THEN amount ELSE 0 END
        AS after
    FROM sales
    WHERE NOT EXISTS (SELECT 1 FROM followed AS f WHERE f.transaction_id = sales.transaction_id)
    UNION ALL
    SELECT
        employee_id,
        day,
        lag(credited, 1, 0) OVER (PARTITION BY transaction_id ORDER BY day),
        credited
    FROM followed_standing
),

sale_changes AS (
    -- Each change in credit, and in the sale's per-deal commission
    -- (business_development_manager.deal_commission, per_transaction bands in money: 4 % of
    -- the first 10,000.00 of each deal, 6 % of the rest; exact, in cents x 100, rounded only
    -- once summed per employee), by month of the plan year (1 = October).
    SELECT
        employee_id,
        (year(day) * 12 + month(day)) - (year(p.year_start) * 12 + month(p.year_start)) + 1 AS m,
        after - before AS credit,
        least(after, 1000000) * 4 + greatest(after - 1000000, 0) * 6
            - least(before, 1000000) * 4 - greatest(before - 1000000, 0) * 6 AS per_deal
    FROM sale_steps
    CROSS JOIN params AS p
    WHERE after <> before
),

-- ---------------------------------------------------------------------------------------------
-- Credit to date per employee at this month's end (m = k) and at last month's (m = k - 1)

credit AS (
    SELECT
        employee_id,
        coalesce(sum(c.credit) FILTER (WHERE c.m <= p.k), 0) AS now,
        coalesce(sum(c.credit) FILTER (WHERE c.m <= p.k - 1), 0) AS before
    FROM sale_changes AS c, params AS p
    WHERE c.m BETWEEN 1 AND p.k
    GROUP BY employee_id
),

to_date AS (
    SELECT r.employee_id, p.k AS m, coalesce(c.now, 0) AS credited
    FROM roster AS r CROSS JOIN params AS p LEFT JOIN credit AS c USING (employee_id)
    UNION ALL
    SELECT r.employee_id, p.k - 1, coalesce(c.before, 0)
    FROM roster AS r CROSS JOIN params AS p LEFT JOIN credit AS c USING (employee_id)
),

team_to_date AS (
    -- A manager's team: the roster rows naming them as manager_id (direct reports only, never
    -- themselves), whatever their role; their dispute-free credit to date.
    SELECT r.manager_id AS employee_id, t.m, sum(t.credited) AS credited
    FROM roster AS r
    JOIN to_date AS t USING (employee_id)
    WHERE r.manager_id IS NOT NULL AND r.manager_id <> r.employee_id
    GROUP BY r.manager_id, t.m
),

-- ---------------------------------------------------------------------------------------------
-- Due to date at both month ends, per employee and component (rounded where compcalc rounds)

due AS (
    SELECT
        r.employee_id,
        r.role,
        r.seniority,
        t.m,
        -- national_account_manager.commission: gate 0.5, retroactive bands 3 % / 4 % from 0.8
        -- / 5 % from 1.0 of quota: the whole credit at the highest band reached.
        CASE
            WHEN r.role <> 'national_account_manager' OR t.credited * 10 < r.quota * 5 THEN 0
            ELSE (2 * t.credited * CASE
                      WHEN t.credited * 10 >= r.quota * 10 THEN 5
                      WHEN t.credited * 10 >= r.quota * 8 THEN 4
                      ELSE 3
                  END + 100) // 200
        END AS nam_commission,
        -- national_account_manager.presidents_club: 3,000.00 once attainment reaches 100 %.
        CASE
            WHEN r.role = 'national_account_manager' AND t.credited >= r.quota THEN 300000
            ELSE 0
        END AS presidents_club,
        -- regional_account_manager.commission: gate 0.25, flat rate by seniority x company size
        -- (in 1/10000).
        CASE
            WHEN r.role <> 'regional_account_manager' OR t.credited * 100 < r.quota * 25 THEN 0
            ELSE (2 * t.credited * CASE r.seniority || '/' || r.company_size
                      WHEN 'entry/small' THEN 300 WHEN 'entry/mid' THEN 275
                      WHEN 'entry/large' THEN 250
                      WHEN 'mid/small' THEN 350 WHEN 'mid/mid' THEN 325 WHEN 'mid/large' THEN 300
                      WHEN 'senior/small' THEN 400 WHEN 'senior/mid' THEN 375
                      WHEN 'senior/large' THEN 350
                  END + 10000) // 20000
        END AS ram_commission,
        -- key_account_manager.commission: marginal bands of quota, in tenths of a cent and
        -- rates in 1/1000: 2 % to 0.5, the standard rate by seniority x company size to 1.0,
        -- 7 % to 1.5, 2 % above; capped per plan year by seniority (the excess forfeited).
        CASE
            WHEN r.role <> 'key_account_manager' THEN 0
            ELSE least(
                (2 * (
                    least(t.credited * 10, r.quota * 5) * 20
                    + least(greatest(t.credited * 10 - r.quota * 5, 0), r.quota * 5)
                        * CASE r.seniority || '/' || r.company_size
                              WHEN 'entry/small' THEN 45 WHEN 'entry/mid' THEN 40
                              WHEN 'entry/large' THEN 35
                              WHEN 'mid/small' THEN 50 WHEN 'mid/mid' THEN 45
                              WHEN 'mid/large' THEN 40
                              WHEN 'senior/small' THEN 55 WHEN 'senior/mid' THEN 50
                              WHEN 'senior/large' THEN 45
                          END
                    + least(greatest(t.credited * 10 - r.quota * 10, 0), r.quota * 5) * 70
                    + greatest(t.credited * 10 - r.quota * 15, 0) * 20
                ) + 10000) // 20000,
                CASE r.seniority
                    WHEN 'entry' THEN 3000000 WHEN 'mid' THEN 4500000 ELSE 6000000
                END)
        END AS kam_commission,
        -- relationship_account_manager.relationship_bonus: linear, target = base x 10 / 15 /
        -- 20 % by seniority (rounded once), floor 0.5, attainment counted up to 1.5.
        CASE
            WHEN r.role <> 'relationship_account_manager' OR t.credited * 10 < r.quota * 5 THEN 0
            WHEN t.credited * 10 > r.quota * 15 THEN (2 * rel.target * 15 + 10) // 20
            ELSE (2 * rel.target * t.credited + r.quota) // (2 * r.quota)
        END AS relationship_bonus,
        -- business_development_manager.growth_bonus: step, target by seniority; 50 % at 1.0,
        -- 100 % at 1.2 of quota (paid at plan year end only, below).
        CASE
            WHEN r.role <> 'business_development_manager' THEN 0
            WHEN t.credited * 10 >= r.quota * 12 THEN bdm.growth_target
            WHEN t.credited * 10 >= r.quota * 10 THEN (2 * bdm.growth_target * 5 + 10) // 20
            ELSE 0
        END AS growth_bonus,
        -- team_override (national: 0.5 % above 1,000,000.00; key: 0.5 % above 1,500,000.00 of
        -- the team's credit to date).
        CASE
            WHEN r.role NOT IN ('national_account_manager', 'key_account_manager') THEN 0
            ELSE (2 * 5 * greatest(coalesce(team.credited, 0) - CASE r.role
                      WHEN 'national_account_manager' THEN 100000000 ELSE 150000000
                  END, 0) + 1000) // 2000
        END AS team_override
    FROM roster AS r
    JOIN to_date AS t USING (employee_id)
    LEFT JOIN team_to_date AS team ON team.employee_id = r.employee_id AND team.m = t.m
    CROSS JOIN LATERAL (
        SELECT (2 * r.base * CASE r.seniority WHEN 'entry' THEN 10 WHEN 'mid' THEN 15 ELSE 20 END
                + 100) // 200 AS target
    ) AS rel
    CROSS JOIN LATERAL (
        SELECT CASE r.seniority WHEN 'entry' THEN 400000 WHEN 'mid' THEN 600000 ELSE 900000 END
            AS growth_target
    ) AS bdm
),

-- ---------------------------------------------------------------------------------------------
-- Business development managers: the per-period cap and the recoverable draw, month by month

per_deal_months AS MATERIALIZED (
    -- (materialized: the recursive walk below reads it every month)
    SELECT c.employee_id, c.m, sum(c.per_deal) AS per_deal
    FROM sale_changes AS c
    JOIN roster AS r USING (employee_id)
    CROSS JOIN params AS p
    WHERE r.role = 'business_development_manager' AND c.m BETWEEN 1 AND p.k
    GROUP BY c.employee_id, c.m
),

bdm_walk(employee_id, m, per_deal, paid, balance, commission, draw_paid, cap, draw) AS (
    -- Month m: deal_commission due to date is the per-deal commission of the credit to date,
    -- rounded once; the month pays min(due - paid before, cap) (the excess is deferred).
    -- Then the draw advances what that falls short of the draw, or recovers from what is
    -- above it at most the balance and 300.00. The balance is advances less recoveries.
    SELECT
        employee_id, 0, CAST(0 AS HUGEINT), CAST(0 AS HUGEINT), CAST(0 AS HUGEINT),
        CAST(0 AS HUGEINT), CAST(0 AS HUGEINT),
        -- deal_commission cap per period, by seniority: no month pays more
        CASE seniority WHEN 'entry' THEN 400000 WHEN 'mid' THEN 600000 ELSE 800000 END,
        -- draw: a month's floor of commission, by seniority
        CASE seniority WHEN 'entry' THEN 200000 WHEN 'mid' THEN 250000 ELSE 400000 END
    FROM roster
    WHERE role = 'business_development_manager'
    UNION ALL
    SELECT
        employee_id,
        m,
        per_deal,
        paid + commission,
        balance + advance - recovery,
        commission,
        advance - recovery,
        cap,
        draw
    FROM (
        SELECT
            *,
            greatest(draw - commission, 0) AS advance,
            least(balance, greatest(commission - draw, 0), 30000) AS recovery
        FROM (
            SELECT *, least((2 * per_deal + 100) // 200 - paid, cap) AS commission
            FROM (
                SELECT
                    w.employee_id,
                    w.m + 1 AS m,
                    w.per_deal + coalesce(c.per_deal, 0) AS per_deal,
                    w.paid,
                    w.balance,
                    w.cap,
                    w.draw
                FROM bdm_walk AS w
                CROSS JOIN params AS p
                LEFT JOIN per_deal_months AS c ON c.employee_id = w.employee_id AND c.m = w.m + 1
                WHERE w.m < p.k
            )
        )
    )
),

-- ---------------------------------------------------------------------------------------------
-- The period: due at this month's end less due at last month's end, plus installments

period_pay AS (
    SELECT
        d.employee_id,
        sum(CASE WHEN d.m = p.k THEN 1 ELSE -1 END
            * (d.nam_commission + d.ram_commission + d.kam_commission)) AS to_date_commission,
        sum(CASE WHEN d.m = p.k THEN 1 ELSE -1 END
            * (d.presidents_club + d.relationship_bonus)) AS to_date_bonus,
        -- growth_bonus (pay: year_end): the whole due, in the period holding 30 September
        sum(CASE WHEN d.m = p.k AND p.k = 12 THEN d.growth_bonus ELSE 0 END) AS year_end_bonus,
        sum(CASE WHEN d.m = p.k THEN 1 ELSE -1 END * d.team_override) AS override
    FROM due AS d, params AS p
    GROUP BY d.employee_id
),

installments AS (
    -- Base and allowances: installment k of N pays round(annual k / N) - round(annual (k-1)
    -- / N) (cumulative rounding). Monthly: N = 12. Key account managers are paid semi-monthly
    -- (N = 24): both halves of month k, 2k - 1 and 2k, add up to round(annual 2k / 24) -
    -- round(annual (2k - 2) / 24).
    SELECT
        r.employee_id,
        CASE
            WHEN r.role = 'key_account_manager'
                THEN (2 * r.base * 2 * p.k + 24) // 48 - (2 * r.base * (2 * p.k - 2) + 24) // 48
            ELSE (2 * r.base * p.k + 12) // 24 - (2 * r.base * (p.k - 1) + 12) // 24
        END AS base,
        -- health (every plan): per month by company size, dated: the table in force on the
        -- period's last day (renewed 2027-01-01); per month x 12 / 12 is the amount itself.
        CASE
            WHEN p.period_end < DATE '2027-01-01' THEN
                CASE r.company_size WHEN 'small' THEN 45000 WHEN 'mid' THEN 52500 ELSE 60000 END
            ELSE
                CASE r.company_size WHEN 'small' THEN 47500 WHEN 'mid' THEN 55000 ELSE 62500 END
        END
        -- car (national and regional account managers, when seniority is mid or senior)
        + CASE
            WHEN r.role IN ('national_account_manager', 'regional_account_manager')
                AND r.seniority IN ('mid', 'senior')
            THEN CASE r.company_size WHEN 'small' THEN 50000 WHEN 'mid' THEN 57500 ELSE 65000 END
            ELSE 0
        END
        -- housing (every plan, when senior and metro): per year, in 12 installments
        + CASE
            WHEN r.seniority = 'senior' AND r.region = 'metro' THEN (
                SELECT (2 * a * p.k + 12) // 24 - (2 * a * (p.k - 1) + 12) // 24
                FROM (SELECT CASE r.company_size
                          WHEN 'small' THEN 900000 WHEN 'mid' THEN 1200000 ELSE 1500000
                      END AS a)
            )
            ELSE 0
        END AS allowances
    FROM roster AS r, params AS p
)

SELECT
    r.employee_id,
    i.base,
    i.allowances,
    coalesce(pp.to_date_commission, 0) + coalesce(w.commission, 0) AS commission,
    coalesce(pp.to_date_bonus, 0) + coalesce(pp.year_end_bonus, 0) AS bonus,
    coalesce(w.draw_paid, 0) AS draw,
    coalesce(pp.override, 0) AS override,
    i.base + i.allowances
        + coalesce(pp.to_date_commission, 0) + coalesce(w.commission, 0)
        + coalesce(pp.to_date_bonus, 0) + coalesce(pp.year_end_bonus, 0)
        + coalesce(w.draw_paid, 0) + coalesce(pp.override, 0) AS total
FROM roster AS r
JOIN installments AS i USING (employee_id)
LEFT JOIN period_pay AS pp USING (employee_id)
LEFT JOIN bdm_walk AS w ON w.employee_id = r.employee_id AND w.m = (SELECT k FROM params)
ORDER BY r.employee_id
