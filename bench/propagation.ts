export async function benchPropagation(_o: { tenants: number; rate: number; duration: number; items: number; settleS: number; direct: boolean }): Promise<Record<string, unknown>> {
  throw new Error('todo');
}
