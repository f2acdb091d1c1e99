// Gatehouse is self-hosted: no plan, no billing; the fields exist because clients read them.
export const SELF_HOSTED_PLAN = { plan_type: 'SELF_HOSTED', plan_tier: 'SELF_HOSTED' } as const;
