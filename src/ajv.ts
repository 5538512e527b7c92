// One way to get an ajv instance with formats (date-time, date, uri) for config, catalog
// and test validation. ajv-formats is CommonJS; under NodeNext its default export arrives
// wrapped, hence the unwrapping here and nowhere else.
import { Ajv, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';

type AddFormats = (ajv: Ajv) => Ajv;
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ??
  (addFormatsModule as unknown as AddFormats)) as AddFormats;

export function newAjv(opts: Options = {}): Ajv {
  const ajv = new Ajv({ strict: false, ...opts });
  addFormats(ajv);
  return ajv;
}
