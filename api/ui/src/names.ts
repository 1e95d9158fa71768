/**
 * Human names for on-chain ids. Ids are keccak256 of a code (node/chain/ids.ts) and names stay off
 * chain, so the console knows the scenario's departments, resources and purposes by their codes and
 * shows any other id as a short hash.
 */
import { id as keccakUtf8 } from "ethers";
import type { Lang } from "./i18n";

interface Named {
  code: string;
  en: string;
  zh: string;
}

const DEPARTMENTS: Named[] = [
  { code: "cq.bigdata", en: "Big Data Development Bureau", zh: "市大数据应用发展管理局" },
  { code: "cq.tax", en: "Tax Service", zh: "市税务局" },
  { code: "cq.water", en: "Water Resources Bureau", zh: "市水利局" },
  { code: "cq.cad", en: "Civil Air Defence Office", zh: "市人民防空办公室" },
  { code: "cq.civil", en: "Civil Affairs Bureau", zh: "市民政局" },
  { code: "cq.yuzhong.bigdata", en: "Yuzhong District Big Data Bureau", zh: "渝中区大数据局" },
  { code: "cq.regulator", en: "Data-security supervision", zh: "数据安全监管" },
  { code: "cq.wdex", en: "Western Data Exchange", zh: "西部数据交易中心" },
];

const RESOURCES: Named[] = [
  { code: "res.water.fee-assessments", en: "Water-resource fee assessments", zh: "水资源费核定数据" },
  { code: "res.cad.fee-assessments", en: "Relocation fee assessments", zh: "防空地下室易地建设费核定数据" },
  { code: "res.civil.residents", en: "Residents (personal information)", zh: "居民信息（个人信息）" },
  { code: "res.cad.shelter-locations", en: "Shelter locations", zh: "人防工程位置" },
];

const PURPOSES: Named[] = [
  { code: "collect water-resource fees", en: "Collect water-resource fees", zh: "征收水资源费" },
  { code: "district social-assistance eligibility check", en: "District social-assistance eligibility check", zh: "区县社会救助资格核查" },
  { code: "collect relocation fees (pilot)", en: "Collect relocation fees (pilot)", zh: "征收易地建设费（试点）" },
];

const CATEGORIES: Record<string, { en: string; zh: string }> = {
  "water-resource-fee": { en: "Water-resource fees", zh: "水资源费" },
  "civil-air-defence-relocation-fee": { en: "Civil-air-defence relocation fees", zh: "防空地下室易地建设费" },
};

const byId = (list: Named[]) => new Map(list.map((n) => [keccakUtf8(n.code), n]));
const departments = byId(DEPARTMENTS);
const resources = byId(RESOURCES);
const purposes = byId(PURPOSES);
const categories = new Map(Object.entries(CATEGORIES).map(([code, n]) => [keccakUtf8(code), { code, ...n }]));

/** `0x1234…abcd`. */
export function short(hex: string, keep = 6): string {
  return hex && hex.length > 2 + 2 * keep ? `${hex.slice(0, 2 + keep)}…${hex.slice(-4)}` : hex;
}

function name(map: Map<string, Named>, id: string, lang: Lang): string {
  const n = map.get(id?.toLowerCase());
  return n ? n[lang] : short(id);
}

/** A department's name, or its short id. */
export const departmentName = (id: string, lang: Lang) => name(departments, id, lang);
/** A resource's name, or its short id. */
export const resourceName = (id: string, lang: Lang) => name(resources, id, lang);
/** A purpose's text, or its short hash. */
export const purposeName = (hash: string, lang: Lang) => name(purposes, hash, lang);
/** A transfer category's name, by its code or its id. */
export function categoryName(codeOrId: string, lang: Lang): string {
  return (CATEGORIES[codeOrId] ?? categories.get(codeOrId?.toLowerCase()))?.[lang] ?? short(codeOrId);
}
/** The scenario's department code of an id, if known. */
export const departmentCode = (id: string) => departments.get(id?.toLowerCase())?.code;

/** The departments and resources the console knows by name: for pickers. */
export const knownDepartments = () => DEPARTMENTS.map((d) => ({ ...d, id: keccakUtf8(d.code) }));
export const knownResources = () => RESOURCES.map((r) => ({ ...r, id: keccakUtf8(r.code) }));
/** The id of a department code (keccak256 of its UTF-8 code). */
export const codeToId = (code: string) => keccakUtf8(code.trim());
